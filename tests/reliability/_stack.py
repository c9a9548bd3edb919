"""A real stack for fault tests: an embedded PostgreSQL (default durability) and `novara serve` processes
on it, each of which a test can kill -9 and start again. Loopback only; every wait is bounded."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psycopg

from gateway.db import AUTHENTICATOR
from novara import DB_DIR, embedded
from novara.background import start_serve
from novara.embedded import EmbeddedServer
from novara.migrate import migrate
from tests.conftest import SECRET

RUN_PREFIX = "novara-reliability-"
DBNAME = "novara"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Stack:
    """`with Stack() as s:` — s.db_url, s.base_url; s.kill_db() / s.start_db(); s.kill_gateway() / s.start_gateway()."""

    def __init__(self, *, gateway_env: dict[str, str] | None = None, use_schema_v2: bool = True) -> None:
        root = embedded.scratch_root()
        embedded.clean_stale_runs(root, RUN_PREFIX)
        self.run_dir = root / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.run_dir.mkdir(parents=True)
        self.pgdata = self.run_dir / "pg"
        self.server: EmbeddedServer | None = None
        self.db_url = ""
        self.base_url = ""
        self.gateway: subprocess.Popen[bytes] | None = None
        self.gateway_env = {"USE_SCHEMA_V2": "true" if use_schema_v2 else "false", **(gateway_env or {})}
        self._port = 0
        self._starts = 0

    # ------------------------------------------------------------------------------------------- database
    def start_db(self) -> None:
        """Start the server (first call: initdb + migrations); after a kill, PostgreSQL's crash recovery runs."""
        if self.server is None:
            self.server = embedded.start(self.pgdata, fast=False, delete=True)
            self.db_url = self.server.ensure_database(DBNAME)
            migrate(self.db_url, DB_DIR, log=lambda _line: None)
        else:
            self._forget_dead_postmaster()
            embedded.ensure_running(self.server)

    def _forget_dead_postmaster(self) -> None:
        """A killed postmaster stays a zombie until its parent (PID 1 here, pg_ctl having exited) reaps it,
        and the embedded launcher takes a zombie for a running server (psutil): wait for the reaping, and
        if it does not come, set its postmaster.pid aside (the process is dead: PostgreSQL's crash recovery
        runs either way)."""
        pid = embedded.postmaster_pid(self.pgdata)
        deadline = time.monotonic() + 2
        while pid is not None and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        if pid is not None and Path(f"/proc/{pid}").exists():
            assert not _alive(pid), "the postmaster is still running"
            (self.pgdata / "postmaster.pid").rename(self.pgdata / "postmaster.pid.dead")

    def kill_db(self) -> None:
        """kill -9 the postmaster and every backend: a crash, not a shutdown."""
        pid = embedded.postmaster_pid(self.pgdata)
        assert pid is not None, "the database is not running"
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(v) for v in victims):
            assert time.monotonic() < deadline, "postgres processes survived SIGKILL"
            time.sleep(0.02)

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection (autocommit) for checking what was stored."""
        return psycopg.connect(self.db_url, autocommit=True)

    # -------------------------------------------------------------------------------------------- gateway
    def start_gateway(self, timeout: float = 60.0) -> None:
        """`novara serve` on the database (same port across restarts); returns once it listens."""
        env = {k: v for k, v in os.environ.items() if k not in {"USE_SCHEMA_V2", "HOST", "PORT"}}
        env.update(
            {
                "DATABASE_URL": embedded.with_login(self.db_url, AUTHENTICATOR),
                "MIGRATION_DATABASE_URL": self.db_url,
                "JWT_SECRET": SECRET,
                **self.gateway_env,
            }
        )
        self._starts += 1
        self.gateway, self.base_url = start_serve(
            # one process: the faults are a kill -9 of *the* gateway, the pool figures one pool's
            ["--host", "127.0.0.1", "--port", str(self._port), "--workers", "1"],
            env,
            self.run_dir / f"gateway-{self._starts}.log",
            timeout=timeout,
        )
        self._port = int(self.base_url.rsplit(":", 1)[1])

    def kill_gateway(self) -> None:
        """kill -9 the gateway process."""
        assert self.gateway is not None
        self.gateway.kill()
        self.gateway.wait(timeout=10)

    def gateway_log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.run_dir.glob("gateway-*.log")))

    # ----------------------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> Stack:
        self.start_db()
        self.start_gateway()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGINT)
            try:
                self.gateway.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
                self.gateway.wait()
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by its parent) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


# ------------------------------------------------------------------------------------------------ write load
# Concurrent writers for the fault tests: each thread has its own user and writes check-ins (POST
# /api/checkins, /api/daily-checkin-enhanced; a new date each time, so never a 409) and events (POST
# /api/v2/health/events with a client-chosen correlation_id), and records every outcome.

CLIENT_TIMEOUT_S = 10.0  # a response slower than this is a hang: a failure
CHECKIN_ROUTES = {"checkin": "/api/checkins", "enhanced": "/api/daily-checkin-enhanced"}
EVENT_ROUTE = "/api/v2/health/events"
PHQ4 = ("phq4_feeling_nervous", "phq4_stop_worrying", "phq4_little_interest", "phq4_feeling_down")


@dataclass
class Outcome:
    """One request of the load: what was sent, when, and what came back (status None: no response)."""

    kind: str  # checkin | enhanced | event
    user: int
    body: dict[str, Any]
    started: float
    ended: float = 0.0
    status: int | None = None
    error: str = ""  # "" | "timeout" | "connection" (refused, reset, closed mid-response)
    response: Any = None
    retry_after: str | None = None
    key: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def date(self) -> str:
        return str(self.body.get("date_submitted", ""))

    def expected_events(self) -> set[str]:
        """The events a check-in body becomes (docs/design-v2.md, "A V1 check-in as events")."""
        types = {"mood"}
        if "medication_taken" in self.body or "missed_doses" in self.body:
            types.add("medication")
        if "side_effects" in self.body:
            types.add("symptom")
        if any(k in self.body for k in PHQ4):
            types.add("assessment")
        return types


def signup(base_url: str, email: str) -> tuple[str, str]:
    """A new account over HTTP: (user id, bearer token)."""
    r = httpx.post(f"{base_url}/api/auth/signup", json={"email": email}, timeout=CLIENT_TIMEOUT_S)
    assert r.status_code == 201, r.text
    body = r.json()
    return body["user"]["id"], body["token"]


def checkin_body(rng: random.Random, day: dt.date) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mood_today": rng.choice(["calm", "hopeful", "tired", "anxious, hopeful"]),
        "confidence_today": rng.randint(1, 10),
        "date_submitted": day.isoformat(),
    }
    if rng.random() < 0.5:
        body["medication_taken"] = rng.choice(["yes", "no", "partial"])
    if rng.random() < 0.4:
        body["side_effects"] = rng.sample(["bloating", "headache", "nausea", "fatigue"], 2)
    if rng.random() < 0.4:
        body.update({k: rng.randint(0, 3) for k in PHQ4})
    if rng.random() < 0.3:
        body["user_note"] = "note " + uuid.uuid4().hex
    return body


def event_body(rng: random.Random) -> dict[str, Any]:
    return {
        "event_type": "mood",
        "event_subtype": "load",
        "event_data": {"mood": rng.choice(["calm", "ok", "low"]), "confidence": rng.randint(1, 10)},
        "correlation_id": str(uuid.uuid4()),
    }


class Load:
    """`threads` writers against `base_url` until stop(); outcomes in .outcomes (thread-safe append)."""

    def __init__(self, base_url: str, users: list[tuple[str, str]], *, seed: int = 8) -> None:
        self.base_url = base_url
        self.users = users
        self.seed = seed
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(users))]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 5)
            assert not t.is_alive(), "a writer thread hangs"

    def _run(self, i: int) -> None:
        rng = random.Random(self.seed * 1000 + i)
        headers = {"Authorization": f"Bearer {self.users[i][1]}"}
        day = dt.date(2025, 12, 31)
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=CLIENT_TIMEOUT_S) as client:
            while not self._stop.is_set():
                kind = rng.choice(["checkin", "enhanced", "event", "event"])
                if kind == "event":
                    body, path = event_body(rng), EVENT_ROUTE
                else:
                    body, path = checkin_body(rng, day), CHECKIN_ROUTES[kind]
                    day -= dt.timedelta(days=1)  # every check-in on a new date, whatever its outcome
                outcome = Outcome(kind, i, body, time.monotonic())
                send(client, path, outcome)
                self.outcomes.append(outcome)
                if not outcome.ok:
                    time.sleep(0.05)  # the gateway or database is down: do not spin


def send(client: httpx.Client, path: str, outcome: Outcome) -> None:
    headers = {"Idempotency-Key": outcome.key} if outcome.key else {}
    try:
        r = client.post(path, json=outcome.body, headers=headers)
    except httpx.TimeoutException:
        outcome.error = "timeout"
    except httpx.TransportError:
        outcome.error = "connection"
    else:
        outcome.status = r.status_code
        outcome.retry_after = r.headers.get("retry-after")
        try:
            outcome.response = r.json()
        except ValueError:
            outcome.response = r.text
    outcome.ended = time.monotonic()


def is_contract_503(o: Outcome) -> bool:
    """503 with Retry-After and the contract's error body {success: false, error, code}."""
    body = o.response
    return (
        o.status == 503
        and bool(o.retry_after)
        and isinstance(body, dict)
        and body.get("success") is False
        and isinstance(body.get("error"), str)
        and isinstance(body.get("code"), str)
    )


@dataclass
class Verdict:
    """What the database holds compared with what the load was told."""

    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)  # acknowledged, missing
    partial: list[str] = field(default_factory=list)  # a check-in with some of its events, or orphans
    unacked_present: int = 0  # no 2xx, but committed whole (the response was lost)
    unacked_absent: int = 0


def verify(conn: psycopg.Connection[Any], outcomes: list[Outcome], user_ids: list[str]) -> Verdict:
    """Every 2xx write is present; every check-in is whole (all its events or none); nothing else exists."""
    v = Verdict()
    events = conn.execute(
        "SELECT e.id::text, e.user_id::text, e.correlation_id::text, e.event_type, e.source, e.local_date::text "
        "FROM public.health_events AS e WHERE e.user_id = ANY(%s::uuid[])",
        (user_ids,),
    ).fetchall()
    # the check-ins' read model: one row per check-in, written in the transaction of its events
    live = {
        (u, d): (cid, t)
        for cid, u, d, t in conn.execute(
            "SELECT d.id::text, d.user_id::text, d.date_submitted::text, d.checkin_type "
            "FROM public.daily_checkins AS d WHERE d.user_id = ANY(%s::uuid[])",
            (user_ids,),
        )
    }
    by_corr: dict[str, list[tuple[str, ...]]] = {}
    by_day: dict[tuple[str, str], int] = {}
    for row in events:
        by_corr.setdefault(row[2], []).append(row)
        if row[4] == "checkin_v1":
            by_day[(row[1], row[5])] = by_day.get((row[1], row[5]), 0) + 1
    accounted: set[str] = set()
    for o in outcomes:
        uid = user_ids[o.user]
        if o.ok:
            v.acknowledged += 1
        if o.kind == "event":
            corr = o.body["correlation_id"]
            rows = by_corr.get(corr, [])
            accounted.add(corr)
            if o.ok:
                if [r[0] for r in rows] != [o.response["event"]["id"]]:
                    v.lost.append(f"event {corr}: {len(rows)} rows")
            elif len(rows) > 1:
                v.partial.append(f"event {corr} stored {len(rows)} times")
            else:
                v.unacked_present += len(rows)
                v.unacked_absent += 1 - len(rows)
            continue
        found = live.get((uid, o.date))
        if o.ok and (found is None or found[0] != o.response["checkin"]["id"]):
            v.lost.append(f"check-in {uid} {o.date}")
            continue
        if found is None:
            # No check-in row: no event of a check-in on that date either.
            stray = by_day.get((uid, o.date), 0)
            if stray:
                v.partial.append(f"check-in {uid} {o.date}: {stray} events, no daily_checkins row")
            else:
                v.unacked_absent += 1
            continue
        cid, ctype = found
        accounted.add(cid)
        types = [r[3] for r in by_corr.get(cid, [])]
        want_type = "enhanced" if o.kind == "enhanced" else "standard"
        if sorted(types) != sorted(o.expected_events()) or ctype != want_type:
            v.partial.append(f"check-in {cid}: events {sorted(types)}, expected {sorted(o.expected_events())}")
        elif not o.ok:
            v.unacked_present += 1
    orphans = set(by_corr) - accounted
    if orphans:
        v.partial.append(f"{len(orphans)} correlations no request accounts for")
    return v
