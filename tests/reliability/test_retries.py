"""Idempotent retries: a client that lost the response to a write retries it with the same
Idempotency-Key and body; exactly one check-in or event exists per key, whatever happened to the first try.

Responses are lost on purpose, against the real `novara serve`: (1) a client read timeout while the write is
held inside the database (a superuser holds a lock the write needs), the write then commits; (2) kill -9 of
the gateway while the write is in flight, then a restart; (3) kill -9 of the database while the write waits
in it (rolled back; the client gets a 503), then a restart; in V2 mode and in V1 mode (USE_SCHEMA_V2=false,
legacy daily_checkins). Also: concurrent twins with one key, and a key reused with another body (409).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests._report import Report, scale

from ._stack import CHECKIN_ROUTES, CLIENT_TIMEOUT_S, EVENT_ROUTE, Stack, signup

ROUNDS = int(scale(1, 3))  # lost-response rounds per route and way of losing it
LOCKED_TABLE = {"checkin": "checkin_idempotency", "enhanced": "checkin_idempotency", "event": "health_events"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack() as s:
        yield s


class Client:
    def __init__(self, s: Stack, email: str) -> None:
        self.s = s
        self.user_id, self.token = signup(s.base_url, email)
        self.day = 0

    def body(self, route: str) -> dict[str, Any]:
        if route == "event":
            return {"event_type": "mood", "event_data": {"mood": "calm"}, "correlation_id": str(uuid.uuid4())}
        self.day += 1
        return {
            "mood_today": "calm",
            "confidence_today": 5,
            "medication_taken": "yes",
            "date_submitted": f"2024-{1 + self.day // 28:02d}-{1 + self.day % 28:02d}",
        }

    def post(self, route: str, body: dict[str, Any], key: str, timeout: float = CLIENT_TIMEOUT_S) -> httpx.Response:
        path = EVENT_ROUTE if route == "event" else CHECKIN_ROUTES[route]
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        return httpx.post(f"{self.s.base_url}{path}", json=body, headers=headers, timeout=timeout)

    def stored(self, route: str, key: str) -> list[str]:
        """Ids stored for this key: events with it, or check-ins claimed with it and present in the store of
        the read model (daily_checkins, written by both modes)."""
        with self.s.connect() as conn:
            if route == "event":
                sql = "SELECT id::text FROM public.health_events WHERE user_id = %s AND idempotency_key = %s"
            else:
                sql = (
                    "SELECT d.id::text FROM public.checkin_idempotency AS k "
                    "JOIN public.daily_checkins AS d ON d.id = k.checkin_id "
                    "WHERE k.user_id = %s AND k.idempotency_key = %s"
                )
            return [r[0] for r in conn.execute(sql, (self.user_id, key))]

    def checkins_on(self, date: str) -> int:
        with self.s.connect() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM public.daily_checkins WHERE user_id = %s AND date_submitted = %s)",
                (self.user_id, date),
            ).fetchone()
        return int(row[0]) if row else -1


def _id(route: str, response: httpx.Response) -> str:
    body = response.json()
    return str(body["event"]["id"] if route == "event" else body["checkin"]["id"])


class Held:
    """A superuser transaction holding an EXCLUSIVE lock on a table the write inserts into."""

    def __init__(self, s: Stack, table: str) -> None:
        self.conn = psycopg.connect(s.db_url)
        self.conn.execute(f"LOCK TABLE public.{table} IN EXCLUSIVE MODE")
        self.s = s

    def wait_blocked(self) -> None:
        """Until a gateway statement waits for the lock (the request reached the database)."""
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        with self.s.connect() as conn:
            while conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'novara-gateway' "
                "AND wait_event_type = 'Lock'"
            ).fetchone() != (1,):
                assert time.monotonic() < deadline, "the write never reached the database"
                time.sleep(0.01)

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def _settled(s: Stack) -> None:
    """Until no gateway statement is running (the held write has committed or rolled back)."""
    deadline = time.monotonic() + CLIENT_TIMEOUT_S
    with s.connect() as conn:
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'novara-gateway' AND state = 'active'"
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "the held write never finished"
            time.sleep(0.01)


def _lose_by_timeout(c: Client, route: str, body: dict[str, Any], key: str) -> str:
    held = Held(c.s, LOCKED_TABLE[route])
    try:
        with pytest.raises(httpx.ReadTimeout):
            c.post(route, body, key, timeout=0.5)
    finally:
        held.release()
    _settled(c.s)
    return "timeout"


def _lose_by_gateway_kill(c: Client, route: str, body: dict[str, Any], key: str) -> str:
    held = Held(c.s, LOCKED_TABLE[route])
    errors: list[BaseException] = []

    def send() -> None:
        try:
            c.post(route, body, key)
        except httpx.TransportError as err:  # the response is lost with the gateway
            errors.append(err)

    sender = threading.Thread(target=send)
    try:
        sender.start()
        held.wait_blocked()
        c.s.kill_gateway()
        sender.join(CLIENT_TIMEOUT_S)
    finally:
        held.release()
    _settled(c.s)
    c.s.start_gateway()
    assert len(errors) == 1, "the client got a response from a killed gateway"
    return "gateway kill"


def _lose_by_database_kill(c: Client, route: str, body: dict[str, Any], key: str) -> str:
    """kill -9 the database while the write waits in it: the write is rolled back, the client gets a 503."""
    held = Held(c.s, LOCKED_TABLE[route])
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(c.post(route, body, key)))
    sender.start()
    held.wait_blocked()
    c.s.kill_db()
    sender.join(CLIENT_TIMEOUT_S)
    with contextlib.suppress(psycopg.Error):
        held.release()
    c.s.start_db()
    assert [a.status_code for a in answers] == [503], [a.text for a in answers]
    return "database kill"


def _retry_until_exactly_one(c: Client, route: str, lose: Any) -> tuple[int, int]:
    """Lose the first response, retry twice with the same key and body: one stored write, same id."""
    body, key = c.body(route), f"retry-{uuid.uuid4()}"
    lose(c, route, body, key)
    first = c.post(route, body, key)
    deadline = time.monotonic() + 5
    while first.status_code == 503 and time.monotonic() < deadline:  # the gateway reconnects
        time.sleep(0.05)
        first = c.post(route, body, key)
    again = c.post(route, body, key)
    assert first.status_code in (200, 201) and again.status_code == 200, (first.text, again.text)
    assert _id(route, first) == _id(route, again)
    assert c.stored(route, key) == [_id(route, first)]
    if route != "event":
        assert c.checkins_on(body["date_submitted"]) == 1
    return 2 + 1, int(first.status_code == 200)


@pytest.mark.parametrize("mode", ["v2", "v1"])
def test_retry_after_lost_response_creates_once(stack: Stack, report: Report, mode: str) -> None:
    if mode == "v1":
        stack.gateway_env["USE_SCHEMA_V2"] = "false"
        stack.kill_gateway()
        stack.start_gateway()
    routes = ["checkin", "enhanced"] + (["event"] if mode == "v2" else [])
    c = Client(stack, f"retry-{mode}@faults.example")
    requests = 0
    replayed: dict[str, int] = {}
    try:
        for lose in (_lose_by_timeout, _lose_by_gateway_kill, _lose_by_database_kill):
            for route in routes:
                for _ in range(ROUNDS):
                    n, r = _retry_until_exactly_one(c, route, lose)
                    requests += n
                    replayed[lose.__name__] = replayed.get(lose.__name__, 0) + r
    finally:
        if mode == "v1":
            stack.gateway_env["USE_SCHEMA_V2"] = "true"
            stack.kill_gateway()
            stack.start_gateway()
    each = len(routes) * ROUNDS
    report(
        requests=requests,
        note=(
            f"{mode}: {3 * each} lost responses (read timeout, kill -9 gateway, kill -9 database) x "
            f"{'/'.join(routes)}; first retry replayed {replayed['_lose_by_timeout']}+"
            f"{replayed['_lose_by_gateway_kill']}+{replayed['_lose_by_database_kill']} of {each} each"
        ),
    )
    # A write held in the database commits after its client (or gateway) is gone: the retry is a replay.
    # A write held when the database is killed is rolled back: the retry creates it, once.
    assert (replayed["_lose_by_timeout"], replayed["_lose_by_gateway_kill"]) == (each, each)
    assert replayed["_lose_by_database_kill"] == 0


def test_concurrent_twins_and_conflicting_reuse(stack: Stack, report: Report) -> None:
    c = Client(stack, "twins@faults.example")
    statuses: list[tuple[str, int, str]] = []
    for route in ("checkin", "enhanced", "event"):
        body, key = c.body(route), f"twin-{uuid.uuid4()}"
        results: list[httpx.Response] = []
        barrier = threading.Barrier(6)

        def twin(
            body: dict[str, Any], key: str, route: str, barrier: threading.Barrier, results: list[httpx.Response]
        ) -> None:
            barrier.wait()
            results.append(c.post(route, body, key))

        threads = [threading.Thread(target=twin, args=(body, key, route, barrier, results)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(CLIENT_TIMEOUT_S)
        assert sorted(r.status_code for r in results) == [200] * 5 + [201], [r.text for r in results]
        assert len({_id(route, r) for r in results}) == 1
        assert c.stored(route, key) == [_id(route, results[0])]
        other = {**body, "event_data": {"mood": "low"}} if route == "event" else {**body, "confidence_today": 9}
        conflict = c.post(route, other, key)
        assert conflict.status_code == 409, conflict.text
        assert conflict.json()["code"] == "IDEMPOTENCY_CONFLICT"
        statuses += [(route, r.status_code, _id(route, r)) for r in [*results, conflict] if r.status_code != 409]
    report(requests=len(statuses) + 3, note="6 concurrent twins per key x 3 routes: one 201, five 200; reuse -> 409")
