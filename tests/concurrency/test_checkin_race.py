"""Concurrent check-ins for one user and one date: exactly one wins, the others get NV409.

The sessions run as the gateway does: claims set transaction-locally, role novara_api, one api.* call.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

DUPLICATE = "You have already submitted a check-in for today. Please try again tomorrow."


def make_user(conn: psycopg.Connection) -> str:
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    conn.execute("INSERT INTO public.users (email) VALUES (%s)", [email])
    conn.commit()
    return email


def as_user(conn: psycopg.Connection, email: str) -> None:
    """Inside a transaction: what the gateway does before calling an api.* function."""
    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [json.dumps({"email": email})])
    conn.execute("SET LOCAL ROLE novara_api")


def outcome(err: psycopg.Error) -> tuple[str, dict[str, Any]]:
    """(SQLSTATE, DETAIL as JSON + the message under "_message") of a failed call."""
    try:
        detail = json.loads(err.diag.message_detail or "{}")
    except ValueError:
        detail = {"_raw_detail": err.diag.message_detail}
    return str(err.sqlstate), {**detail, "_message": err.diag.message_primary}


def submit(db_url: str, email: str, body: dict[str, Any], barrier: threading.Barrier) -> tuple[str, dict[str, Any]]:
    with psycopg.connect(db_url) as conn:
        try:
            with conn.transaction():
                as_user(conn, email)
                barrier.wait(timeout=20)
                row = conn.execute("SELECT api.create_checkin(%s)", [Jsonb(body)]).fetchone()
        except psycopg.Error as err:
            return outcome(err)
        assert row is not None
        return "ok", row[0]


def race(db_url: str, email: str, day: str, sessions: int) -> list[tuple[str, dict[str, Any]]]:
    """`sessions` connections submit a check-in for `day` at the same moment (a barrier releases them)."""
    barrier = threading.Barrier(sessions)
    results: list[tuple[str, dict[str, Any]]] = [("not run", {})] * sessions

    def run(i: int) -> None:
        body = {"mood_today": f"mood {i}", "confidence_today": i + 1, "date_submitted": day}
        results[i] = submit(db_url, email, body, barrier)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_simultaneous_submissions_one_wins(postgresql: psycopg.Connection, db_url: str) -> None:
    email = make_user(postgresql)
    for day in ("2026-01-10", "2026-01-11", "2026-01-12"):
        results = race(db_url, email, day, sessions=4)
        winners = [body for status, body in results if status == "ok"]
        losers = [body for status, body in results if status != "ok"]
        assert len(winners) == 1, results
        assert [status for status, _ in results if status != "ok"] == ["NV409"] * 3, results
        winner = winners[0]["checkin"]
        for detail in losers:
            assert detail["_message"] == DUPLICATE
            assert detail["code"] == "CHECKIN_EXISTS"
            assert detail["existing_checkin"] == {
                "id": winner["id"],
                "mood_today": winner["mood_today"],
                "confidence_today": winner["confidence_today"],
                "date_submitted": day,
            }

    rows = postgresql.execute(
        "SELECT date_submitted::text, count(*) FROM public.daily_checkins GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("2026-01-10", 1), ("2026-01-11", 1), ("2026-01-12", 1)]
    # the losers wrote no events: one mood event per check-in
    assert postgresql.execute("SELECT count(*) FROM public.health_events").fetchone() == (3,)
    assert postgresql.execute("SELECT count(*) FROM public.daily_checkins_legacy").fetchone() == (3,)


def wait_until_blocked(monitor: psycopg.Connection, pid: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = monitor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        monitor.commit()
        if row and row[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the second session never waited for the first")


def held_race(postgresql: psycopg.Connection, db_url: str, commit_first: bool) -> tuple[Any, tuple[str, Any]]:
    """Session A submits and keeps its transaction open; B submits the same day and must wait for A."""
    email = make_user(postgresql)
    first = psycopg.connect(db_url, autocommit=True)
    second = psycopg.connect(db_url)
    result: list[tuple[str, Any]] = []
    try:
        first.execute("BEGIN")
        as_user(first, email)
        row = first.execute("SELECT api.create_checkin(%s)", [Jsonb({"mood_today": "first", "confidence_today": 3})])
        first_body = row.fetchone()[0]  # type: ignore[index]

        def run() -> None:
            try:
                with second.transaction():
                    as_user(second, email)
                    got = second.execute(
                        "SELECT api.create_checkin(%s)", [Jsonb({"mood_today": "second", "confidence_today": 4})]
                    ).fetchone()
                result.append(("ok", got[0]))  # type: ignore[index]
            except psycopg.Error as err:
                result.append(outcome(err))

        thread = threading.Thread(target=run)
        thread.start()
        wait_until_blocked(postgresql, second.info.backend_pid)
        assert not result, "the second session must wait for the first"
        first.execute("COMMIT" if commit_first else "ROLLBACK")
        thread.join(timeout=30)
        assert result, "the second session finished"
        return first_body, result[0]
    finally:
        first.close()
        second.close()


def test_second_session_waits_then_gets_409(postgresql: psycopg.Connection, db_url: str) -> None:
    first_body, (status, detail) = held_race(postgresql, db_url, commit_first=True)
    assert status == "NV409"
    assert detail["_message"] == DUPLICATE
    assert detail["code"] == "CHECKIN_EXISTS"
    assert detail["existing_checkin"]["id"] == first_body["checkin"]["id"]
    assert detail["existing_checkin"]["mood_today"] == "first"
    assert detail["existing_checkin"]["confidence_today"] == 3
    rows = postgresql.execute("SELECT d.mood_today FROM public.daily_checkins_legacy AS d").fetchall()
    assert rows == [("first",)]


def test_second_session_wins_when_first_rolls_back(postgresql: psycopg.Connection, db_url: str) -> None:
    _first_body, (status, body) = held_race(postgresql, db_url, commit_first=False)
    assert status == "ok"
    assert body["checkin"]["mood_today"] == "second"
    rows = postgresql.execute("SELECT d.mood_today FROM public.daily_checkins_legacy AS d").fetchall()
    assert rows == [("second",)]
    assert postgresql.execute("SELECT count(*) FROM public.health_events").fetchone() == (1,)
