"""Pool exhaustion: a gateway with a 2-connection pool (DB_POOL_MAX=2) under more clients than that.

1. More clients than connections: requests queue for a connection (gateway/db.py POOL_WAIT_S) and succeed;
   the gateway never opens more than DB_POOL_MAX connections.
2. The database holds every connection longer than the pool wait — a real lock, not a mock: a session holds
   ACCESS EXCLUSIVE on public.users, which every authenticated call reads (core.require_user). The two
   requests holding the connections wait on the lock (less than the statement timeout) and succeed; the
   overflow gets 503 with Retry-After and the contract's error body after waiting POOL_WAIT_S, never a 500;
   once the lock is released the gateway serves at once.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from gateway.db import POOL_WAIT_S, STATEMENT_TIMEOUT_MS
from tests._report import Report, scale

from ._load import Load, describe, seed_users, summary
from ._stack import Stack

POOL = 2
CLIENTS = 12
SECONDS = scale(3, 20)
HOLD_S = POOL_WAIT_S + 1.0  # longer than the pool wait, shorter than the statement timeout
assert HOLD_S < STATEMENT_TIMEOUT_MS / 1000
BURST = 8


def _gateway_connections(stack: Stack) -> int:
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = 'novara-gateway'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_small_pool_waits_then_503_with_retry_after(report: Report) -> None:
    with Stack(gateway_env={"DB_POOL_MAX": str(POOL)}) as stack:
        users = seed_users(stack.db_url, CLIENTS, days=14)
        assert stack.gateway is not None

        # 1. 12 clients, 2 connections: everyone waits a little, nobody fails.
        peak = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _gateway_connections(stack))
                done.wait(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        result = Load(stack.base_url, users, stack.gateway.pid).run(SECONDS)
        done.set()
        watcher.join()
        info = describe(result)
        assert result.failed == 0, info
        assert result.classes["ok"] > CLIENTS, info
        assert 1 <= peak <= POOL, f"the gateway opened {peak} connections (DB_POOL_MAX={POOL})"

        # 2. The database holds both connections longer than the pool wait.
        url = f"{stack.base_url}/api/users/metrics"
        headers = {"Authorization": f"Bearer {users[0].token}"}

        def call(_: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = httpx.get(url, headers=headers, timeout=30)
            return response, time.monotonic() - started

        with stack.connect() as holder, ThreadPoolExecutor(BURST) as pool:
            with holder.transaction():
                holder.execute("LOCK TABLE public.users IN ACCESS EXCLUSIVE MODE")
                futures = [pool.submit(call, i) for i in range(BURST)]
                time.sleep(HOLD_S)
            held = [f.result() for f in futures]
            released = time.monotonic()
            after = list(pool.map(call, range(BURST)))
            recovered_in = time.monotonic() - released

    statuses = sorted(r.status_code for r, _ in held)
    overflow = [(r, s) for r, s in held if r.status_code == 503]
    report(
        requests=result.requests + 2 * BURST,
        failures=result.failed + sum(r.status_code not in (200, 503) for r, _ in held + after),
        note=(
            f"pool {POOL}, {CLIENTS} clients {SECONDS:.0f} s: {summary(result)}, peak {peak} conns; "
            f"lock held {HOLD_S:.0f} s: {statuses.count(200)} x 200, {len(overflow)} x 503; "
            f"served again in {recovered_in * 1000:.0f} ms"
        ),
    )
    assert set(statuses) <= {200, 503}, [(r.status_code, r.text) for r, _ in held]
    assert statuses.count(200) >= 1, statuses  # the requests that had a connection waited and succeeded
    assert len(overflow) >= BURST - POOL - 1, statuses  # the rest could not get one (one may have been late)
    for response, seconds in overflow:
        assert response.headers.get("retry-after", "").isdigit(), response.headers
        body = response.json()
        assert body["success"] is False and body["code"] == "DATABASE_UNAVAILABLE", body
        assert isinstance(body["error"], str) and body["error"], body
        assert seconds >= POOL_WAIT_S * 0.9, f"503 after {seconds:.2f} s: it did not wait for a connection"
    assert [r.status_code for r, _ in after] == [200] * BURST, [r.text for r, _ in after]
    assert recovered_in < 5, f"{recovered_in:.1f} s to serve {BURST} requests after the lock was released"
