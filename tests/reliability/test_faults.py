"""Durability under faults: kill -9 the database, then the gateway, under a write load of check-ins
and events, against the real `novara serve` on an embedded PostgreSQL with default durability.

Guarantees checked: every write that got a 2xx is in the database afterwards; a check-in is whole (all the
events its body implies and its daily_checkins row) or absent; a write that got no
2xx is whole or absent; while the database is down every answer is the contract's 503 with Retry-After
(never a 500, never a hang: a client timeout is a failure), and the gateway serves again on its own
within seconds of the database being back.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from tests._report import Report, scale

from ._stack import CLIENT_TIMEOUT_S, Load, Outcome, Stack, is_contract_503, signup, verify

WRITERS = 8
BEFORE_S = scale(1.5, 8.0)  # load before the fault
DOWN_S = scale(1.0, 6.0)  # how long the killed process stays down
AFTER_S = scale(1.5, 8.0)  # load after recovery
RECOVERY_MAX_S = 5.0  # first 2xx after the database is back


@pytest.fixture(scope="module")
def stack() -> Stack:
    with Stack() as s:
        yield s


def _users(s: Stack, tag: str) -> tuple[list[tuple[str, str]], list[str]]:
    users = [signup(s.base_url, f"{tag}-{i}@faults.example") for i in range(WRITERS)]
    return users, [u for u, _ in users]


def _summary(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "requests": len(outcomes),
        "ok": sum(o.ok for o in outcomes),
        "503": sum(o.status == 503 for o in outcomes),
        "timeouts": sum(o.error == "timeout" for o in outcomes),
        "connection errors": sum(o.error == "connection" for o in outcomes),
    }


def _verifier_catches_damage(conn: psycopg.Connection[Any], outcomes: list[Outcome], ids: list[str]) -> None:
    """The check itself can fail: drop one event of an acknowledged check-in and one acknowledged event
    (in a transaction rolled back after), and it reports a half-written check-in and a lost write."""
    checkin = next(o for o in outcomes if o.ok and o.kind != "event" and len(o.expected_events()) > 1)
    event = next(o for o in outcomes if o.ok and o.kind == "event")
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL novara.erasure = on")
        conn.execute(
            "DELETE FROM public.health_events WHERE id = (SELECT min(e.id::text)::uuid FROM public.health_events AS e "
            "WHERE e.correlation_id = %s AND e.event_type <> 'mood')",
            (checkin.response["checkin"]["id"],),
        )
        conn.execute("DELETE FROM public.health_events WHERE id = %s", (event.response["event"]["id"],))
        damaged = verify(conn, outcomes, ids)
    assert len(damaged.partial) == 1 and len(damaged.lost) == 1, damaged


def test_kill_database_under_write_load(stack: Stack, report: Report) -> None:
    users, ids = _users(stack, "dbkill")
    with Load(stack.base_url, users) as load:
        time.sleep(BEFORE_S)
        stack.kill_db()
        down_at = time.monotonic()
        time.sleep(DOWN_S)
        restart_at = time.monotonic()
        stack.start_db()
        up_at = time.monotonic()
        deadline = up_at + RECOVERY_MAX_S + CLIENT_TIMEOUT_S
        while not any(o.ok and o.started >= up_at for o in list(load.outcomes)) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(AFTER_S)
    outcomes = load.outcomes
    stats = _summary(outcomes)

    # Never a 500, never a hang, never a connection error (the gateway stays up): 2xx or the contract's 503.
    bad = [o for o in outcomes if not (o.ok or is_contract_503(o))]
    # Requests wholly inside the outage were all answered 503.
    during = [o for o in outcomes if o.started >= down_at and o.ended <= restart_at]
    not_503 = [o for o in during if not is_contract_503(o)]
    recovered = [o.ended for o in outcomes if o.ok and o.started >= up_at]
    recovery_s = (min(recovered) - up_at) if recovered else float("inf")

    with stack.connect() as conn:
        verdict = verify(conn, outcomes, ids)
        _verifier_catches_damage(conn, outcomes, ids)
    report(
        requests=stats["requests"],
        failures=len(bad) + len(not_503) + len(verdict.partial),
        lost_writes=len(verdict.lost),
        note=(
            f"{WRITERS} writers, DB down {DOWN_S:g} s; {stats['ok']} 2xx, {stats['503']} 503 "
            f"({len(during)} during outage); crash recovery {up_at - restart_at:.1f} s, first 2xx "
            f"{recovery_s:.2f} s after; {verdict.unacked_present} unacked writes committed whole"
        ),
    )
    assert not bad, [(o.kind, o.status, o.error, o.response) for o in bad[:5]]
    assert during, "no request fell inside the outage"
    assert not not_503, [(o.status, o.error, o.response) for o in not_503[:5]]
    assert recovery_s <= RECOVERY_MAX_S, f"first 2xx {recovery_s:.2f} s after the database came back"
    assert not verdict.lost, verdict.lost[:5]
    assert not verdict.partial, verdict.partial[:5]
    assert stats["ok"] > 0 and verdict.acknowledged == stats["ok"]


def test_kill_gateway_under_write_load(stack: Stack, report: Report) -> None:
    users, ids = _users(stack, "gwkill")
    with Load(stack.base_url, users) as load:
        time.sleep(BEFORE_S)
        stack.kill_gateway()
        down_at = time.monotonic()
        time.sleep(DOWN_S)
        restart_at = time.monotonic()
        stack.start_gateway()
        up_at = time.monotonic()
        time.sleep(AFTER_S)
    outcomes = load.outcomes
    stats = _summary(outcomes)

    # The database is up throughout: every answer is a 2xx. No response (connection refused or cut) is
    # expected while the gateway is dead, and only then.
    bad = [o for o in outcomes if o.status is not None and not o.ok]
    hangs = [o for o in outcomes if o.error == "timeout"]
    stray_conn = [o for o in outcomes if o.error == "connection" and (o.ended < down_at - 0.5 or o.started > up_at)]
    after = [o for o in outcomes if o.started > up_at]

    with stack.connect() as conn:
        verdict = verify(conn, outcomes, ids)
    report(
        requests=stats["requests"],
        failures=len(bad) + len(hangs) + len(stray_conn) + len(verdict.partial),
        lost_writes=len(verdict.lost),
        note=(
            f"{WRITERS} writers, gateway down {DOWN_S:g} s + restart {up_at - restart_at:.1f} s; "
            f"{stats['ok']} 2xx, {stats['connection errors']} connection errors while it was dead (expected); "
            f"{verdict.unacked_present} unacked writes committed whole"
        ),
    )
    assert not bad, [(o.kind, o.status, o.response) for o in bad[:5]]
    assert not hangs, f"{len(hangs)} requests timed out after {CLIENT_TIMEOUT_S} s"
    assert not stray_conn, [(o.started - down_at, o.ended - up_at) for o in stray_conn[:5]]
    assert stats["connection errors"] > 0, "no request met the dead gateway"
    assert after and all(o.ok for o in after), "the restarted gateway does not serve"
    assert not verdict.lost, verdict.lost[:5]
    assert not verdict.partial, verdict.partial[:5]
