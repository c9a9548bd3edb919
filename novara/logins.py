"""What a login can do: `novara serve` refuses to serve requests through a login with powers a gateway must not
hold (docs/roles.md)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from gateway.db import CONNECT_TIMEOUT_S, GATEWAY_ROLE

# What the gateway's login could do beyond SET ROLE novara_api: a reason per power, for `novara serve` to refuse.
_LOGIN_POWERS = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
    (SELECT string_agg(DISTINCT o.rolname, ', ' ORDER BY o.rolname)
     FROM (
         SELECT c.relowner AS owner FROM pg_catalog.pg_class AS c WHERE c.relnamespace = ANY (s.ids)
         UNION SELECT p.proowner FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = ANY (s.ids)
         UNION SELECT n.nspowner FROM pg_catalog.pg_namespace AS n WHERE n.oid = ANY (s.ids)
     ) AS owners
     INNER JOIN pg_catalog.pg_roles AS o ON owners.owner = o.oid
     WHERE pg_catalog.pg_has_role(r.oid, o.oid, 'MEMBER')),
    coalesce(pg_catalog.pg_has_role(r.oid, pg_catalog.to_regrole(%s), 'MEMBER'), FALSE)
FROM pg_catalog.pg_roles AS r,
    (SELECT array_agg(n.oid) AS ids FROM pg_catalog.pg_namespace AS n WHERE n.nspname IN ('public', 'api', 'core')) AS s
WHERE r.rolname = session_user
"""


@dataclass(frozen=True)
class Login:
    role: str
    powers: list[str]  # what makes it unfit to serve requests (empty: fit)
    can_serve: bool  # it may SET ROLE to the gateway role


def inspect_login(url: str) -> Login:
    """The login role of `url`: whether it is a superuser, BYPASSRLS or able to become an owner of the schema's
    objects (powers a gateway must not hold), and whether it may SET ROLE to the gateway role."""
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        row = conn.execute(_LOGIN_POWERS, (GATEWAY_ROLE,)).fetchone()  # type: ignore[arg-type]
    assert row is not None
    role, superuser, bypassrls, owners, can_serve = row
    powers = []
    if superuser:
        powers.append("it is a superuser")
    if bypassrls:
        powers.append("it bypasses row-level security (BYPASSRLS)")
    if owners and not superuser:
        powers.append(f"it owns or can become the owner of the schema's objects ({owners})")
    return Login(role, powers, bool(can_serve))
