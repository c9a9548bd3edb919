"""A mixed-workload driver for the reliability suite: N client threads against a real `novara serve`.

Each client is one user (seeded with realistic history by novara/seed.py) and loops over a weighted mix
of the app's hot routes: reads (list check-ins, timeline, daily summary, analytics, user metrics, daily
insight) and writes (check-ins on distinct dates, V2 events). Every response is classified:
  ok           2xx
  expected     the 4xx the driver provokes on purpose (every 10th check-in repeats a date: 409)
  server       5xx (a failure, whatever the reason)
  client       any other 4xx, or a transport error / timeout (a failure)
Acknowledged writes (2xx) are kept per user, to be compared with the rows in the database afterwards.
A sampler reads the gateway's RSS (/proc/<pid>/status VmRSS) once a second while the load runs.

Pure Python (http.client, one keep-alive connection per thread) so it runs wherever the suite runs; on the
2-core test machine the client threads share the CPU with the gateway and PostgreSQL, so the figures are
a floor, not a benchmark (bench/ measures throughput with wrk).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from gateway import auth
from novara import seed as seeding
from tests.conftest import SECRET

# The load's check-in dates: far before the generated history (the last N days before today). Past
# LAST_DATE (7,300 check-ins per client: hours of soak) a client writes events instead.
FIRST_DATE = dt.date(2001, 1, 1)
LAST_DATE = dt.date(2020, 12, 31)
SUBTYPE = "reliability-load"  # marks the load's events
DUPLICATE_EVERY = 10  # every 10th check-in re-posts the previous date: 409 is the expected answer

CHECKIN = {
    "mood_today": "hopeful",
    "confidence_today": 7,
    "anxiety_level": 4,
    "medication_taken": "yes",
    "side_effects": ["bloating"],
    "user_note": "reliability load",
}
EVENT = {"event_type": "sleep", "event_subtype": SUBTYPE, "event_data": {"hours": 7.5, "quality": 7}}

# (kind, method, target, weight): reads ~75 %, writes ~25 %.
MIX: tuple[tuple[str, str, str, int], ...] = (
    ("list_checkins", "GET", "/api/checkins", 12),
    ("timeline", "GET", "/api/v2/health/timeline?limit=100", 14),
    ("daily_summary", "GET", "/api/v2/health/daily-summary", 14),
    ("analytics", "GET", "/api/v2/analytics?timeframe=quarter", 10),
    ("user_metrics", "GET", "/api/users/metrics", 12),
    ("daily_insight", "GET", "/api/insights/daily", 12),
    ("create_checkin", "POST", "/api/checkins", 12),
    ("create_event", "POST", "/api/v2/health/events", 14),
)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str


def seed_users(db_url: str, count: int, days: int = 60, seed: int = 8) -> list[User]:
    """`count` users with `days` of generated history (set-based, novara/seed.py), each with a token."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        seeding.install(conn)
        seeding.signup(conn, seed, "load", "load", 0, count, days, 0.85)
        seeding.write_cohort(conn, seed, "load", 0, count)
        conn.execute("ANALYZE")
        rows = conn.execute(
            "SELECT u.id::text, u.email FROM seed.users b JOIN public.users u ON u.id = b.user_id "
            "WHERE b.cohort = 'load' ORDER BY b.k"
        ).fetchall()
    return [User(r[0], r[1], auth.sign(SECRET, {"id": r[0], "email": r[1]})) for r in rows]


@dataclass
class Sample:
    kind: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: transport error


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a description of each failed request (first 50)
    acked_checkins: dict[str, set[str]] = field(default_factory=dict)  # user id -> dates acknowledged (201)
    acked_events: dict[str, set[str]] = field(default_factory=dict)  # user id -> event ids acknowledged (201)
    rss_kib: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, VmRSS KiB)
    started: float = 0.0
    stopped: float = 0.0
    classes: Counter[str] = field(default_factory=Counter)  # ok / expected / server / client

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def failed(self) -> int:
        return self.classes["server"] + self.classes["client"]

    @property
    def acked_writes(self) -> int:
        return sum(map(len, self.acked_checkins.values())) + sum(map(len, self.acked_events.values()))

    @property
    def rate(self) -> float:
        return self.requests / max(self.stopped - self.started, 1e-9)

    def p(self, q: float, samples: list[Sample] | None = None) -> float:
        """The q-quantile (0..1) of latency in seconds."""
        values = sorted(s.seconds for s in (self.samples if samples is None else samples))
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(q * len(values)))]

    def between(self, start: float, end: float) -> list[Sample]:
        """Requests in flight at any moment of [start, end]."""
        return [s for s in self.samples if s.started <= end and s.started + s.seconds >= start]

    def rss_growth(self) -> tuple[float, float]:
        """(median RSS of the middle third, of the last third) in MiB; the first third is warm-up."""
        values = [kib / 1024 for _, kib in self.rss_kib]
        third = len(values) // 3
        if third == 0:
            return (0.0, 0.0)
        return statistics.median(values[third : 2 * third]), statistics.median(values[2 * third :])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for pid {pid}")


class Load:
    """`load = Load(base_url, users, gateway_pid); load.start(); …; result = load.stop()` (or `load.run(s)`)."""

    def __init__(self, base_url: str, users: list[User], gateway_pid: int | None = None, *, seed: int = 1):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.users = users
        self.gateway_pid = gateway_pid
        self.seed = seed
        self.result = Result()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def run(self, seconds: float) -> Result:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def start(self) -> None:
        self.result = Result(started=time.monotonic())
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._client, args=(i, user), daemon=True) for i, user in enumerate(self.users)
        ]
        if self.gateway_pid is not None:
            self._threads.append(threading.Thread(target=self._sample_rss, daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> Result:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
            assert not t.is_alive(), "a load client did not stop within 60 s"
        self.result.stopped = time.monotonic()
        return self.result

    # ------------------------------------------------------------------------------------------------ threads
    def _sample_rss(self) -> None:
        assert self.gateway_pid is not None
        while not self._stop.is_set():
            try:
                value = rss_kib(self.gateway_pid)
            except (OSError, LookupError):
                return  # the gateway is gone; the clients will report it
            with self._lock:
                self.result.rss_kib.append((time.monotonic(), value))
            self._stop.wait(1.0)

    def _client(self, index: int, user: User) -> None:
        rng = random.Random(self.seed * 1000 + index)
        kinds = [m for m in MIX]
        weights = [m[3] for m in MIX]
        headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        next_date = FIRST_DATE
        written = 0
        samples: list[Sample] = []
        classes: Counter[str] = Counter()
        failures: list[str] = []
        checkins: set[str] = set()
        events: set[str] = set()
        while not self._stop.is_set():
            kind, method, target, _ = rng.choices(kinds, weights)[0]
            if kind == "create_checkin" and next_date > LAST_DATE:
                kind, method, target, _ = MIX[-1]
            body: bytes | None = None
            expect_conflict = False
            date = ""
            if kind == "create_checkin":
                written += 1
                if written % DUPLICATE_EVERY == 0 and next_date > FIRST_DATE:
                    date, expect_conflict = (next_date - dt.timedelta(days=1)).isoformat(), True
                else:
                    date, next_date = next_date.isoformat(), next_date + dt.timedelta(days=1)
                body = json.dumps({**CHECKIN, "date_submitted": date}).encode()
            elif kind == "create_event":
                body = json.dumps(EVENT).encode()
            started = time.monotonic()
            status, payload = 0, b""
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                status, payload = response.status, response.read()
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                payload = f"{type(err).__name__}: {err}".encode()
            samples.append(Sample(kind, started, time.monotonic() - started, status))
            verdict = _classify(status, expect_conflict)
            classes[verdict] += 1
            if verdict in ("server", "client"):
                if len(failures) < 50:
                    failures.append(f"{kind} {method} {target} -> {status} {payload[:300]!r}")
                continue
            if verdict == "ok" and kind == "create_checkin":
                checkins.add(date)
            elif verdict == "ok" and kind == "create_event":
                events.add(str(json.loads(payload)["event"]["id"]))
        conn.close()
        with self._lock:
            self.result.samples.extend(samples)
            self.result.classes.update(classes)
            self.result.failures.extend(failures)
            self.result.acked_checkins[user.id] = checkins
            self.result.acked_events[user.id] = events


def _classify(status: int, expect_conflict: bool) -> str:
    if status >= 500:
        return "server"
    if expect_conflict:
        return "expected" if status == 409 else "client"
    if 200 <= status < 300:
        return "ok"
    return "client"


def lost_writes(db_url: str, result: Result) -> tuple[int, int, list[str]]:
    """(acknowledged writes missing from the database, rows the load wrote that were never acknowledged, details).

    Per user: the check-in dates answered 201 against the live check-ins on the load's dates, and the event
    ids answered 201 against the events with the load's subtype.
    """
    missing = extra = 0
    details: list[str] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        for user_id in sorted(set(result.acked_checkins) | set(result.acked_events)):
            stored_dates = {
                r[0]
                for r in conn.execute(
                    "SELECT date_submitted::text FROM public.daily_checkins "
                    "WHERE user_id = %s AND date_submitted BETWEEN %s AND %s",
                    (user_id, FIRST_DATE, LAST_DATE),
                )
            }
            stored_events = {
                r[0]
                for r in conn.execute(
                    "SELECT id::text FROM public.health_events WHERE user_id = %s AND event_subtype = %s",
                    (user_id, SUBTYPE),
                )
            }
            acked_dates = result.acked_checkins.get(user_id, set())
            acked_events = result.acked_events.get(user_id, set())
            gone = len(acked_dates - stored_dates) + len(acked_events - stored_events)
            unacked = len(stored_dates - acked_dates) + len(stored_events - acked_events)
            if gone or unacked:
                details.append(
                    f"user {user_id}: check-ins acked {len(acked_dates)} stored {len(stored_dates)}, "
                    f"events acked {len(acked_events)} stored {len(stored_events)}"
                )
            missing += gone
            extra += unacked
    return missing, extra, details


def summary(result: Result) -> str:
    """One line for the report: rate, latency quantiles, the mix actually sent."""
    return (
        f"{result.requests / max(result.stopped - result.started, 1e-9):,.0f} req/s, "
        f"p50 {result.p(0.5) * 1000:.0f} ms, p99 {result.p(0.99) * 1000:.0f} ms, "
        f"max {result.p(1.0) * 1000:.0f} ms"
    )


def describe(result: Result) -> dict[str, Any]:
    by_kind = Counter(s.kind for s in result.samples)
    return {"classes": dict(result.classes), "by_kind": dict(by_kind), "failures": result.failures[:10]}
