"""Signup is race-safe: of two concurrent signups with one email exactly one account is created."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb


def _signup(conn: psycopg.Connection, email: str) -> Any:
    conn.execute("SELECT set_config('role', 'novara_api', true)")
    row = conn.execute("SELECT api.signup(%s)", (Jsonb({"email": email}),)).fetchone()
    assert row is not None
    return row[0]


def _wait_until_blocked(monitor: psycopg.Connection, pid: int) -> None:
    for _ in range(500):
        row = monitor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError("the second signup never waited for the first")


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
def test_concurrent_signups_with_one_email(db_url: str, first_outcome: str) -> None:
    with (
        psycopg.connect(db_url) as first,
        psycopg.connect(db_url) as second,
        psycopg.connect(db_url, autocommit=True) as monitor,
    ):
        first_body = _signup(first, "race@example.com")
        outcome: dict[str, Any] = {}

        def run_second() -> None:
            try:
                outcome["body"] = _signup(second, "  RACE@Example.com ")
                second.commit()
            except psycopg.Error as err:
                second.rollback()
                outcome["error"] = err

        thread = threading.Thread(target=run_second)
        thread.start()
        _wait_until_blocked(monitor, second.info.backend_pid)
        getattr(first, first_outcome)()
        thread.join(10)
        assert not thread.is_alive()

        rows = monitor.execute("SELECT id::text, email FROM public.users").fetchall()
        if first_outcome == "commit":
            assert outcome["error"].sqlstate == "NV409"
            assert outcome["error"].diag.message_primary == "User already exists"
            assert rows == [(first_body["user"]["id"], "race@example.com")]
        else:
            assert "error" not in outcome
            assert rows == [(outcome["body"]["user"]["id"], "race@example.com")]
        assert monitor.execute("SELECT count(*) FROM public.user_profiles").fetchone() == (1,)
