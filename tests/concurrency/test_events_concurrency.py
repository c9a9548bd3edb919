"""api.create_event under concurrency: two sessions racing on one Idempotency-Key or on one correction.

The second session is made to wait on the first one's uncommitted row (seen in pg_stat_activity), then the
first commits or rolls back: exactly one event is written, and the loser gets the contract's answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

CLAIMS = json.dumps({"email": "ann@example.com"})


@pytest.fixture
def admin(postgresql: psycopg.Connection) -> Iterator[psycopg.Connection]:
    postgresql.autocommit = True
    user_id = postgresql.execute("INSERT INTO public.users (email) VALUES ('ann@example.com') RETURNING id").fetchone()
    assert user_id
    postgresql.execute("INSERT INTO public.user_profiles (user_id) VALUES (%s)", (user_id[0],))
    yield postgresql


def session(db_url: str) -> psycopg.Connection:
    """A gateway-like session: its own transaction, role novara_api, the caller's claims."""
    conn = psycopg.connect(db_url)
    conn.execute("SELECT set_config('role', 'novara_api', true)")
    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (CLAIMS,))
    return conn


def create(conn: psycopg.Connection, args: dict[str, Any]) -> dict[str, Any]:
    """api.create_event's answer, with the status it set for the gateway (core.respond_with) under "status"."""
    row = conn.execute(
        "SELECT r.body, nullif(current_setting('response.status', true), '')::integer "
        "FROM (SELECT api.create_event(%s) AS body OFFSET 0) AS r",
        (Jsonb(args),),
    ).fetchone()
    assert row
    conn.execute("SELECT set_config('response.status', '', true)")  # the next call is seen on its own
    return {**row[0], "status": row[1]}


def race(
    admin: psycopg.Connection, db_url: str, first_args: dict[str, Any], second_args: dict[str, Any], commit: bool
) -> tuple[dict[str, Any], dict[str, Any] | psycopg.Error]:
    """Session 1 writes (uncommitted); session 2 writes and must wait; session 1 commits or rolls back."""
    one, two = session(db_url), session(db_url)
    try:
        first = create(one, first_args)
        two_pid = two.info.backend_pid
        outcome: dict[str, Any] = {}

        def second() -> None:
            try:
                outcome["result"] = create(two, second_args)
                two.commit()
            except psycopg.Error as err:
                outcome["result"] = err
                two.rollback()

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while True:
            waiting = admin.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (two_pid,)
            ).fetchone()
            if waiting and waiting[0] == "Lock":
                break
            assert time.monotonic() < deadline, "the second session never waited for the first"
            assert thread.is_alive(), f"the second session did not wait: {outcome}"
            time.sleep(0.02)
        if commit:
            one.commit()
        else:
            one.rollback()
        thread.join(10)
        assert not thread.is_alive()
        return first, outcome["result"]
    finally:
        one.close()
        two.close()


def count(admin: psycopg.Connection) -> int:
    row = admin.execute("SELECT count(*) FROM public.health_events").fetchone()
    assert row
    return int(row[0])


BODY = {"event_type": "mood", "event_data": {"mood": "hopeful"}, "idempotency_key": "abc-1"}


def test_same_key_same_body_replays_the_winner(admin: psycopg.Connection, db_url: str) -> None:
    first, second = race(admin, db_url, BODY, BODY, commit=True)
    assert isinstance(second, dict), second
    assert first["status"] is None  # the route's own, 201
    assert second["status"] == 200
    assert second["event"]["id"] == first["event"]["id"]
    assert count(admin) == 1


def test_same_key_other_body_conflicts(admin: psycopg.Connection, db_url: str) -> None:
    other = {**BODY, "event_data": {"mood": "anxious"}}
    _, second = race(admin, db_url, BODY, other, commit=True)
    assert isinstance(second, psycopg.Error)
    assert second.sqlstate == "NV409"
    assert second.diag.message_primary == "Idempotency-Key reuse with a different request"
    assert json.loads(second.diag.message_detail or "{}")["code"] == "IDEMPOTENCY_CONFLICT"
    assert count(admin) == 1


def test_same_key_after_a_rollback_creates(admin: psycopg.Connection, db_url: str) -> None:
    first, second = race(admin, db_url, BODY, BODY, commit=False)
    assert isinstance(second, dict), second
    assert second["status"] is None
    assert second["event"]["id"] != first["event"]["id"]
    assert count(admin) == 1


def test_two_corrections_of_one_event_one_wins(admin: psycopg.Connection, db_url: str) -> None:
    with session(db_url) as conn:
        original = create(conn, {"event_type": "mood", "event_data": {"mood": "tired"}})["event"]["id"]
        conn.commit()
    fix = {"action": "correct", "related_event_id": original, "event_type": "mood"}
    first, second = race(
        admin, db_url, {**fix, "event_data": {"mood": "good"}}, {**fix, "event_data": {"mood": "okay"}}, commit=True
    )
    assert first["event"]["action"] == "correct"
    assert isinstance(second, psycopg.Error)
    assert second.sqlstate == "NV409"
    assert second.diag.message_primary == "Event has already been corrected or retracted"
    assert count(admin) == 2
    live = admin.execute("SELECT event_data ->> 'mood' FROM public.health_events_live").fetchall()
    assert live == [("good",)]
