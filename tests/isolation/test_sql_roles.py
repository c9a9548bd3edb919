"""Row-level isolation between users, proved as the gateway role (novara_api) on a real database.

Users A and B are created through api.signup; each gets rows in every per-user table (inserted directly,
as the superuser). Then, inside transactions that switch to novara_api with the claims the gateway would
set, each user sees exactly their own rows, writes outside the api functions are refused, the erasure
function is out of reach, and claims naming B never reach A's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

# table or view -> the column naming the row's user
OWNED = {
    "users": "id",
    "user_profiles": "user_id",
    "health_events": "user_id",
    "insights": "user_id",
    "daily_checkins": "user_id",
    "insight_engagement": "user_id",
    "insight_feedback": "user_id",
    "health_events_live": "user_id",
}
TABLES = [name for name in OWNED if name != "health_events_live"]


@contextmanager
def as_role(conn: psycopg.Connection, claims: dict[str, Any] | None, role: str = "novara_api") -> Iterator[None]:
    """One transaction run as `role` with these request claims (None: no claims)."""
    with conn.transaction():
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims) if claims else "",))
        conn.execute("SELECT set_config('role', %s, true)", (role,))
        yield


def refused(conn: psycopg.Connection, claims: dict[str, Any] | None, sql: str, role: str = "novara_api") -> str:
    """Run `sql` as `role`; it must fail with insufficient_privilege. Returns the error message."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, as_role(conn, claims, role):
        conn.execute(sql)  # type: ignore[arg-type]
    return str(exc.value)


def seed(conn: psycopg.Connection, uid: str) -> None:
    conn.execute(
        "INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date) "
        "VALUES (%s, 'note', %s, now(), current_date)",
        (uid, Jsonb({"text": "secret"})),
    )
    insight = conn.execute(
        "INSERT INTO public.insights (user_id, insight_type, title, message, local_date) "
        "VALUES (%s, 'encouragement', 'Keep going', 'private words', current_date) RETURNING id",
        (uid,),
    ).fetchone()
    assert insight is not None
    conn.execute(
        "INSERT INTO public.insight_engagement (user_id, insight_id, insight_type, action, local_date) "
        "VALUES (%s, %s, 'daily', 'viewed', current_date)",
        (uid, insight[0]),
    )
    conn.execute(
        "INSERT INTO public.insight_feedback (user_id, insight_id, helpful, comment) VALUES (%s, %s, true, 'mine')",
        (uid, insight[0]),
    )
    conn.execute(
        "INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today) "
        "VALUES (%s, current_date, 'hopeful', 7)",
        (uid,),
    )


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[psycopg.Connection, dict[str, str]]]:
    """A superuser connection (autocommit) and the ids of users a@… and b@…, each with seeded rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = {}
        for name in ("a", "b"):
            with conn.transaction():
                user = conn.execute("SELECT api.signup(%s)", (Jsonb({"email": f"{name}@example.com"}),)).fetchone()
                assert user is not None
                ids[name] = user[0]["user"]["id"]
                seed(conn, ids[name])
        yield conn, ids


def claims_of(ids: dict[str, str], name: str, by: str) -> dict[str, Any]:
    return {"id": ids[name], "email": f"{name}@example.com"} if by == "id" else {"email": f"{name}@example.com"}


@pytest.mark.parametrize("by", ["email", "id"])
@pytest.mark.parametrize("me", ["a", "b"])
def test_each_user_sees_only_their_rows(world: tuple[psycopg.Connection, dict[str, str]], me: str, by: str) -> None:
    conn, ids = world
    claims = claims_of(ids, me, by)
    with as_role(conn, claims):
        assert conn.execute("SELECT current_user").fetchone() == ("novara_api",)
        for table, column in OWNED.items():
            owners = [row[0] for row in conn.execute(f"SELECT {column}::text FROM public.{table}")]
            assert owners == [ids[me]], table
        secrets = conn.execute("SELECT event_data->>'text' FROM public.health_events").fetchall()
        assert secrets == [("secret",)]
        me_body = conn.execute("SELECT api.me()").fetchone()
        assert me_body is not None
        assert me_body[0]["user"]["id"] == ids[me]
        assert me_body[0]["user"]["email"] == f"{me}@example.com"
        # a user_id in the body never names another user
        other = "b" if me == "a" else "a"
        body = conn.execute("SELECT api.me(%s)", (Jsonb({"user_id": ids[other]}),)).fetchone()
        assert body is not None and body[0]["user"]["id"] == ids[me]


def test_no_claims_see_nothing(world: tuple[psycopg.Connection, dict[str, str]]) -> None:
    conn, _ids = world
    with as_role(conn, None):
        for table in OWNED:
            assert conn.execute(f"SELECT count(*) FROM public.{table}").fetchone() == (0,), table
    with pytest.raises(psycopg.Error) as exc, as_role(conn, None):
        conn.execute("SELECT api.me()")
    assert exc.value.sqlstate == "NV401"
    assert exc.value.diag.message_primary == "Access token required"
    # claims of an unknown user see nothing either
    with as_role(conn, {"email": "nobody@example.com"}):
        for table in OWNED:
            assert conn.execute(f"SELECT count(*) FROM public.{table}").fetchone() == (0,), table


@pytest.mark.parametrize("table", TABLES)
def test_gateway_role_cannot_write_tables(world: tuple[psycopg.Connection, dict[str, str]], table: str) -> None:
    conn, ids = world
    a = claims_of(ids, "a", "id")
    column = OWNED[table]
    inserts = {
        "users": "INSERT INTO public.users (email) VALUES ('a2@example.com')",
        "user_profiles": f"INSERT INTO public.user_profiles (user_id) VALUES ('{ids['a']}')",
        "health_events": "INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date) "
        f"VALUES ('{ids['a']}', 'note', '{{\"text\": \"x\"}}', now(), current_date)",
        "insights": "INSERT INTO public.insights (user_id, insight_type, title, message, local_date) "
        f"VALUES ('{ids['a']}', 't', 't', 'm', current_date + 1)",
        "daily_checkins": "INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today) "
        f"VALUES ('{ids['a']}', current_date + 1, 'ok', 5)",
        "insight_engagement": "INSERT INTO public.insight_engagement (user_id, insight_type, action, local_date) "
        f"VALUES ('{ids['a']}', 'daily', 'viewed', current_date)",
        "insight_feedback": "INSERT INTO public.insight_feedback (user_id, insight_id, helpful) "
        f"SELECT '{ids['a']}', id, false FROM public.insights LIMIT 1",
    }
    # even the caller's own rows: the functions are the only write path
    for sql in (
        inserts[table],
        f"UPDATE public.{table} SET {column} = {column}",
        f"DELETE FROM public.{table} WHERE {column} = '{ids['a']}'",
        f"TRUNCATE public.{table} CASCADE",
    ):
        assert "permission denied" in refused(conn, a, sql), sql
    with as_role(conn, None, role="none"):
        counts = conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()
    assert counts == (2,), "nothing was written or removed"


def test_gateway_role_cannot_write_the_live_view(world: tuple[psycopg.Connection, dict[str, str]]) -> None:
    conn, ids = world
    a = claims_of(ids, "a", "email")
    for sql in (
        "UPDATE public.health_events_live SET event_subtype = 'x'",
        "DELETE FROM public.health_events_live",
    ):
        assert "permission denied" in refused(conn, a, sql), sql


def test_gateway_role_cannot_erase(world: tuple[psycopg.Connection, dict[str, str]]) -> None:
    conn, ids = world
    for claims in (claims_of(ids, "a", "id"), None):
        message = refused(conn, claims, f"SELECT core.erase_user('{ids['a']}')")
        assert "permission denied for function erase_user" in message
        message = refused(conn, claims, f"SELECT core.erase_user('{ids['b']}', 'because')")
        assert "permission denied for function erase_user" in message
    with conn.transaction():
        users = conn.execute("SELECT count(*) FROM public.users").fetchone()
        events = conn.execute("SELECT count(*) FROM public.health_events").fetchone()
    assert (users, events) == ((2,), (2,))


def test_claims_of_b_never_reach_a(world: tuple[psycopg.Connection, dict[str, str]]) -> None:
    conn, ids = world
    a_id, b_id = ids["a"], ids["b"]
    b = claims_of(ids, "b", "email")

    # The gateway role: no direct write at all, even to a row it names explicitly.
    refused(conn, b, f"UPDATE public.user_profiles SET nickname = 'hacked' WHERE user_id = '{a_id}'")
    refused(conn, b, f"DELETE FROM public.health_events WHERE user_id = '{a_id}'")

    # Through the api: a user_id in the body is ignored, the write lands on B.
    with as_role(conn, b):
        body = conn.execute("SELECT api.update_me(%s)", (Jsonb({"user_id": a_id, "nickname": "hacked"}),)).fetchone()
    assert body is not None and body[0]["user"]["id"] == b_id and body[0]["user"]["nickname"] == "hacked"

    # The functions' owner (novara_definer) with B's claims: A's rows are invisible to UPDATE/DELETE,
    # and WITH CHECK refuses any row written for A.
    with as_role(conn, b, role="novara_definer"):
        cur = conn.execute(f"UPDATE public.user_profiles SET nickname = 'hacked' WHERE user_id = '{a_id}'")
        assert cur.rowcount == 0
        cur = conn.execute(f"DELETE FROM public.insights WHERE user_id = '{a_id}'")
        assert cur.rowcount == 0
    for sql in (
        "INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date) "
        f"VALUES ('{a_id}', 'note', '{{\"text\": \"planted\"}}', now(), current_date)",
        "INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today) "
        f"VALUES ('{a_id}', current_date + 1, 'planted', 5)",
        f"UPDATE public.insights SET user_id = '{a_id}' WHERE user_id = '{b_id}'",
        "INSERT INTO public.users (email) VALUES ('someone.else@example.com')",
    ):
        message = refused(conn, b, sql, role="novara_definer")
        assert "row-level security" in message, sql

    with conn.transaction():
        row = conn.execute(
            "SELECT p.nickname, (SELECT count(*) FROM public.health_events AS e WHERE e.user_id = p.user_id), "
            "(SELECT count(*) FROM public.insights AS i WHERE i.user_id = p.user_id) "
            "FROM public.user_profiles AS p WHERE p.user_id = %s",
            (a_id,),
        ).fetchone()
    assert row == (None, 1, 1), "A's rows are untouched"


PER_USER_RELATIONS = """
SELECT c.relname, a.attname, c.relkind
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attname = 'user_id' OR (c.relname = 'users' AND a.attname = 'id'))
ORDER BY 1
"""


def test_every_per_user_relation_is_covered(world: tuple[psycopg.Connection, dict[str, str]]) -> None:
    """Every relation holding a user's rows (found in the catalog, so a new one is covered) is either
    checked row by row above (OWNED), unreadable to the gateway role, or shows it the caller's rows only."""
    conn, ids = world
    with conn.transaction():
        relations = conn.execute(PER_USER_RELATIONS).fetchall()
    assert set(OWNED) <= {rel for rel, _, _ in relations}
    unreadable, filtered = [], []
    for rel, column, kind in relations:
        if rel in OWNED:
            continue
        with conn.transaction():
            row = conn.execute("SELECT has_table_privilege('novara_api', %s, 'SELECT')", (f"public.{rel}",)).fetchone()
        if not (row and row[0]):
            refused(conn, claims_of(ids, "a", "id"), f"SELECT 1 FROM public.{rel}")
            unreadable.append(rel)
            continue
        assert kind != "m", f"{rel}: a materialized view has no row-level security; novara_api must not read it"
        with as_role(conn, claims_of(ids, "a", "email")):
            owners = {r[0] for r in conn.execute(f"SELECT {column}::text FROM public.{rel}")}
        assert owners <= {ids["a"]}, rel
        filtered.append(rel)
    # the materialized metrics views are out of the gateway role's reach
    assert {"user_daily_metrics", "user_weekly_metrics"} <= set(unreadable), unreadable
