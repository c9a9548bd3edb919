"""Probes as attackers, one per role, on a real server and through real logins.

- The analyst (documented as read-only) sets forged claims naming the victim and tries every api.* function, the
  functions that write, and direct writes: all refused with permission denied.
- The authenticator (the gateway's login) tries RESET ROLE then reading every relation, calling api.* without
  the gateway role, and SET ROLE to every other role: all refused.
- The gateway role tries direct writes on every table and SET ROLE to the owner and the other roles: refused.
Afterwards the victim's data is what it was, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

VICTIM = "victim@example.com"
ATTACKER = "attacker@example.com"
PROFILE = {
    "nickname": "V",
    "confidence_meds": 5,
    "confidence_costs": 5,
    "confidence_overall": 5,
    "primary_need": "emotional_support",
    "cycle_stage": "ivf_prep",
}


def call_as_user(conn: psycopg.Connection, email: str, function: str, args: dict[str, Any]) -> Any:
    """One api call as the gateway makes it: a transaction, role novara_api, the user's claims."""
    with conn.transaction():
        conn.execute(
            "SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', %s, true)",
            [json.dumps({"email": email})],
        )
        row = conn.execute(
            sql.SQL("SELECT {}(%s::jsonb)").format(sql.Identifier(*function.split("."))), [json.dumps(args)]
        ).fetchone()
    assert row is not None
    return row[0]


def snapshot(conn: psycopg.Connection, user_id: str) -> dict[str, Any]:
    """Every row of the user in every per-user table (as the superuser, RLS bypassed)."""
    out: dict[str, Any] = {}
    for (table,) in conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
        "AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id') ORDER BY 1"
    ).fetchall():
        rows = conn.execute(
            sql.SQL("SELECT to_jsonb(t)::text FROM public.{} AS t WHERE t.user_id = %s ORDER BY 1").format(
                sql.Identifier(table)
            ),
            [user_id],
        ).fetchall()
        out[table] = [r[0] for r in rows]
    user = conn.execute("SELECT to_jsonb(u)::text FROM public.users AS u WHERE u.id = %s", [user_id]).fetchone()
    out["users"] = user[0] if user else None
    return out


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[psycopg.Connection, str]]:
    """The victim (profile, a check-in, an event, a stored insight) and an attacker account; superuser conn."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        victim = call_as_user(conn, VICTIM, "api.signup", {"email": VICTIM, **PROFILE})["user"]["id"]
        call_as_user(conn, ATTACKER, "api.signup", {"email": ATTACKER, **PROFILE})
        call_as_user(conn, VICTIM, "api.create_checkin", {"mood_today": "hopeful", "confidence_today": 6})
        call_as_user(conn, VICTIM, "api.create_event", {"event_type": "note", "event_data": {"text": "private"}})
        call_as_user(conn, VICTIM, "api.daily_insight", {})
        before = snapshot(conn, victim)
        assert before["health_events"] and before["user_profiles"] and before["insights"]
        yield conn, victim
        assert snapshot(conn, victim) == before, "the victim's data changed"


def catalog(conn: psycopg.Connection, query: str) -> list[str]:
    return [r[0] for r in conn.execute(query).fetchall()]  # type: ignore[arg-type]


API_FUNCTIONS = "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY 1"
# every table with its first column (a column every UPDATE probe can name)
TABLES = (
    "SELECT c.relname, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = 1) "
    "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1"
)
RELATIONS = (
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','v','m') "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1"
)
WRITES = (
    "INSERT INTO public.{t} DEFAULT VALUES",
    "UPDATE public.{t} SET {c} = DEFAULT",
    "DELETE FROM public.{t}",
    "TRUNCATE public.{t}",
)


def denied(conn: psycopg.Connection, statement: str | sql.Composed) -> None:
    """`statement` fails with permission denied (42501); the transaction around it is rolled back."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)  # type: ignore[arg-type]


def write_statements(conn: psycopg.Connection) -> Iterator[sql.Composed]:
    """INSERT, UPDATE, DELETE and TRUNCATE of every table of schema public (read from the catalog)."""
    tables = conn.execute(TABLES).fetchall()
    assert len(tables) > 15
    for table, column in tables:
        for template in WRITES:
            yield sql.SQL(template).format(t=sql.Identifier(table), c=sql.Identifier(column))


def test_the_analyst_cannot_act_as_anyone(world: tuple[psycopg.Connection, str], db_url: str) -> None:
    statements = list(write_statements(world[0]))
    victim = world[1]
    conn = psycopg.connect(db_url, autocommit=True)  # a DBA's session that took the analyst role
    conn.execute("SET ROLE novara_analyst")
    conn.execute("SELECT set_config('request.jwt.claims', %s, false)", [json.dumps({"email": VICTIM})])
    functions = catalog(conn, API_FUNCTIONS)
    assert len(functions) > 30
    for name in functions:  # the three-line attack, for every api function
        denied(conn, sql.SQL("SELECT api.{}(%s::jsonb)").format(sql.Identifier(name)).as_string(conn) % "'{}'")
    denied(conn, 'SELECT api.update_me(\'{"nickname":"pwned"}\')')
    for statement in (
        "SELECT core.erase_user(gen_random_uuid(), 'x')",
        "SELECT core.current_user_id()",
        "SELECT core.claims()",
        "SELECT public.refresh_user_metrics()",
        "SELECT email FROM public.users",
        "SELECT nickname FROM public.user_profiles",
        "SELECT * FROM public.user_credentials",
        "SELECT * FROM public.login_attempts",
        "SELECT * FROM public.checkin_idempotency",
    ):
        denied(conn, statement)
    for statement in statements:
        denied(conn, statement)
    # the job it has: read the health data of every user, pseudonymously
    owners = conn.execute("SELECT array_agg(DISTINCT user_id::text) FROM public.health_events").fetchone()
    assert owners == ([victim],)
    legacy = conn.execute(
        "SELECT count(*), min(mood_today), min(fields ->> 'mood_today') FROM public.daily_checkins_legacy"
    )
    assert legacy.fetchone() == (1, "hopeful", "hopeful")  # every column of the view, the merged fields too
    assert conn.execute("SELECT count(id) FROM public.users").fetchone() == (2,)  # id, status, dates only
    conn.close()


def test_the_authenticator_holds_nothing_and_becomes_only_the_gateway_role(
    world: tuple[psycopg.Connection, str], gateway_url: str
) -> None:
    conn, _victim = world
    owner = conn.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.health_events'::regclass")
    owner_role = owner.fetchone()[0]  # type: ignore[index]
    with psycopg.connect(gateway_url, autocommit=True) as login:
        assert login.execute("SELECT session_user, current_user").fetchone() == ("novara_authenticator",) * 2
        login.execute("SET ROLE novara_api")
        login.execute("RESET ROLE")
        login.execute("SELECT set_config('request.jwt.claims', %s, false)", [json.dumps({"email": VICTIM})])
        for relation in catalog(conn, RELATIONS):
            denied(login, sql.SQL("SELECT * FROM public.{} LIMIT 1").format(sql.Identifier(relation)))
        denied(login, "SELECT api.me('{}'::jsonb)")
        denied(login, 'SELECT api.update_me(\'{"nickname":"pwned"}\')')
        for role in ("novara_definer", "novara_analyst", owner_role, "pg_read_all_data", "pg_write_all_data"):
            denied(login, sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        denied(login, sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(owner_role)))
        for statement in write_statements(conn):
            denied(login, statement)


def test_the_gateway_role_cannot_write_directly_or_become_another(
    world: tuple[psycopg.Connection, str], gateway_url: str
) -> None:
    conn, _victim = world
    owner_role = conn.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.health_events'::regclass"
    ).fetchone()[0]  # type: ignore[index]
    with psycopg.connect(gateway_url, autocommit=True) as login:
        login.execute("SET ROLE novara_api")
        login.execute("SELECT set_config('request.jwt.claims', %s, false)", [json.dumps({"email": ATTACKER})])
        for statement in write_statements(conn):
            denied(login, statement)
        for role in (owner_role, "novara_definer", "novara_analyst"):
            denied(login, sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        # and what it may do is confined to the attacker's own rows
        seen = login.execute("SELECT count(*), count(*) FILTER (WHERE email = %s) FROM public.users", [ATTACKER])
        assert seen.fetchone() == (1, 1)
        events = login.execute("SELECT count(*) FROM public.health_events").fetchone()
        assert events == (0,)
        legacy = login.execute("SELECT count(*), count(fields) FROM public.daily_checkins_legacy").fetchone()
        assert legacy == (0, 0)  # the view's every column is readable, and shows none of the victim's rows
