"""V1-mode and V2 writes at the same moment (a rolling restart: both kinds of instance serve), docs/v1-v2-sync.md.

Each case holds one session's transaction open at the conflicting point, starts the other mode's call in a
second session, checks that it waits, then commits the first: the result must be what a serial order gives,
both modes must list it, and the event log (with the V1-mode writes still pending imported, as when the flag
turns on) must rebuild exactly the read model they list from.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

DUPLICATE = "You have already submitted a check-in for today. Please try again tomorrow."


def make_user(conn: psycopg.Connection) -> str:
    email = f"mixed-{uuid.uuid4().hex[:12]}@example.com"
    conn.execute("INSERT INTO public.users (email) VALUES (%s)", [email])
    conn.commit()
    return email


def begin_as(conn: psycopg.Connection, email: str) -> None:
    """Open a transaction the way the gateway does: claims set transaction-locally, role novara_api."""
    conn.execute("BEGIN")
    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [json.dumps({"email": email})])
    conn.execute("SET LOCAL ROLE novara_api")


def call(db_url: str, email: str, function: str, args: dict[str, Any]) -> tuple[str, Any]:
    """One api.* call in its own transaction: ("ok", body) or (SQLSTATE, {message, detail})."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        try:
            begin_as(conn, email)
            body = conn.execute(f"SELECT api.{function}(%s)", [Jsonb(args)]).fetchone()[0]  # type: ignore[index]
            conn.execute("COMMIT")
        except psycopg.Error as err:
            return str(err.sqlstate), {"message": err.diag.message_primary, "detail": err.diag.message_detail}
        return "ok", body


def while_held(db_url: str, email: str, holder: Callable[[psycopg.Connection], None], waiter: Callable[[], Any]) -> Any:
    """Run `holder` in an open transaction, start `waiter` in a thread, check it waits, commit, return its result."""
    result: list[Any] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        begin_as(conn, email)
        holder(conn)
        thread = threading.Thread(target=lambda: result.append(waiter()))
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the other mode's call waits for the open transaction"
        conn.execute("COMMIT")
        thread.join(timeout=30)
    assert result, "the waiting call finished"
    return result[0]


def both_paths(db_url: str, email: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    v1 = call(db_url, email, "v1_list_checkins", {})
    v2 = call(db_url, email, "list_checkins", {})
    assert v1[0] == "ok" and v2[0] == "ok", (v1, v2)
    with psycopg.connect(db_url, autocommit=True) as owner:
        owner.execute("SELECT core.sync_legacy_checkins(NULL, 1000)")
        assert owner.execute("SELECT tests.checkins_drift()").fetchone() == (None,), "the log rebuilds the read model"
    return v1[1]["checkins"], v2[1]["checkins"]


def test_v1_insert_in_flight_beats_a_v2_create(postgresql: psycopg.Connection, db_url: str) -> None:
    email = make_user(postgresql)
    body = {"mood_today": "v1", "confidence_today": 3, "date_submitted": "2026-01-01"}

    def hold(conn: psycopg.Connection) -> None:
        conn.execute("SELECT api.v1_create_checkin(%s)", [Jsonb(body)])

    status, err = while_held(
        db_url, email, hold, lambda: call(db_url, email, "create_checkin", {**body, "mood_today": "v2"})
    )
    assert status == "NV409" and err["message"] == DUPLICATE
    assert json.loads(err["detail"])["existing_checkin"]["mood_today"] == "v1"
    v1, v2 = both_paths(db_url, email)
    assert [c["mood_today"] for c in v1] == ["v1"] and v1 == v2
    n = postgresql.execute("SELECT count(*) FROM public.health_events WHERE event_data ->> 'mood' = 'v2'").fetchone()
    assert n == (0,), "the refused V2 create left no event"


def test_v2_create_in_flight_beats_a_v1_create(postgresql: psycopg.Connection, db_url: str) -> None:
    email = make_user(postgresql)
    body = {"mood_today": "v2", "confidence_today": 3, "date_submitted": "2026-01-01"}

    def hold(conn: psycopg.Connection) -> None:
        conn.execute("SELECT api.create_checkin(%s)", [Jsonb(body)])

    status, err = while_held(
        db_url, email, hold, lambda: call(db_url, email, "v1_create_checkin", {**body, "mood_today": "v1"})
    )
    assert status == "NV409" and err["message"] == DUPLICATE
    v1, v2 = both_paths(db_url, email)
    assert [c["mood_today"] for c in v1] == ["v2"] and v1 == v2


def test_v2_update_waits_for_a_v1_update_of_the_same_checkin(postgresql: psycopg.Connection, db_url: str) -> None:
    """No lost update: the V2 partial update applies on top of the V1 one it waited for."""
    email = make_user(postgresql)
    status, created = call(db_url, email, "create_checkin", {"mood_today": "first", "confidence_today": 3})
    assert status == "ok"
    cid = created["checkin"]["id"]

    def hold(conn: psycopg.Connection) -> None:
        conn.execute("SELECT api.v1_update_checkin(%s)", [Jsonb({"id": cid, "mood_today": "from v1"})])

    status, updated = while_held(
        db_url, email, hold, lambda: call(db_url, email, "update_checkin", {"id": cid, "confidence_today": 9})
    )
    assert status == "ok", updated
    assert updated["checkin"]["mood_today"] == "from v1" and updated["checkin"]["confidence_today"] == 9
    v1, v2 = both_paths(db_url, email)
    assert v1 == v2 and v1[0]["mood_today"] == "from v1" and v1[0]["confidence_today"] == 9


def test_v2_delete_waits_for_a_v1_delete(postgresql: psycopg.Connection, db_url: str) -> None:
    email = make_user(postgresql)
    status, created = call(db_url, email, "create_checkin", {"mood_today": "x", "confidence_today": 3})
    cid = created["checkin"]["id"]

    def hold(conn: psycopg.Connection) -> None:
        conn.execute("SELECT api.v1_delete_checkin(%s)", [Jsonb({"id": cid})])

    status, err = while_held(db_url, email, hold, lambda: call(db_url, email, "delete_checkin", {"id": cid}))
    assert status == "NV404" and err["message"] == "Check-in not found"
    assert both_paths(db_url, email) == ([], [])


def test_v1_update_waits_for_a_v2_update_of_the_same_checkin(postgresql: psycopg.Connection, db_url: str) -> None:
    email = make_user(postgresql)
    status, created = call(db_url, email, "v1_create_checkin", {"mood_today": "first", "confidence_today": 3})
    cid = created["checkin"]["id"]

    def hold(conn: psycopg.Connection) -> None:
        conn.execute("SELECT api.update_checkin(%s)", [Jsonb({"id": cid, "mood_today": "from v2"})])

    status, updated = while_held(
        db_url, email, hold, lambda: call(db_url, email, "v1_update_checkin", {"id": cid, "confidence_today": 9})
    )
    assert status == "ok", updated
    assert updated["checkin"]["mood_today"] == "from v2" and updated["checkin"]["confidence_today"] == 9
    v1, v2 = both_paths(db_url, email)
    assert v1 == v2 and v1[0]["mood_today"] == "from v2" and v1[0]["confidence_today"] == 9
