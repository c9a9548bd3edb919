"""The mixed load of the failover tests, and what it is checked against.

Each client is one user with its own thread and keep-alive connections: it writes (events, check-ins; every write
with an Idempotency-Key, retried with the same key and body until it is acknowledged) through one gateway and reads
(its timeline, its check-ins, its export) through another, sending back the latest X-Novara-LSN it was given. Every
answer is logged with its send and answer times, so the checks can say what the client had been told before each
read.
Retries come after RETRY_S, not the 2 s of Retry-After: the clients are impatient on purpose, so that the time to
the first write after a failover is measured to a tenth of a second.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

LSN_HEADER = "X-Novara-LSN"
CLIENT_TIMEOUT_S = 15.0  # a longer answer is a hang: a failure
RETRY_S = 0.1
MAX_CHECKINS = 25  # per client: one a day going back from today, all inside the lists' and timeline's windows
SUBTYPE = "ha-load"
PROFILE_TZ = zoneinfo.ZoneInfo("America/Los_Angeles")  # the profile's default zone: "today" for the check-ins


def lsn_value(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass
class Write:
    kind: str  # event | checkin
    key: str
    body: dict[str, Any]
    tries: int = 0
    statuses: list[int | str] = field(default_factory=list)
    acked_at: float | None = None  # monotonic time of the 2xx
    sent_at: float = 0.0  # monotonic time the acknowledged try was sent
    first_sent: float = 0.0
    ident: str | None = None  # the event id or check-in id the 2xx named


@dataclass
class Read:
    route: str
    sent: float
    answered: float
    status: int | str
    expected: set[str]  # ids acknowledged to this client before the read was sent
    missing: set[str] = field(default_factory=set)


@dataclass
class Client:
    index: int
    user_id: str
    token: str
    write_url: str
    read_url: str
    writes: list[Write] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)  # 5xx other than the contract's 503, hangs
    lsn: str | None = None  # the latest (highest) X-Novara-LSN received


class Load:
    """`with Load(clients) as load:` runs every client until stop()."""

    def __init__(self, clients: list[Client], *, write_share: float = 0.5, seed: int = 17) -> None:
        self.clients = clients
        self.write_share = write_share
        self.seed = seed
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(c,), daemon=True) for c in clients]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=CLIENT_TIMEOUT_S * 2)
            assert not t.is_alive(), "a client thread hangs"

    # ------------------------------------------------------------------------------------------------ clients
    def _run(self, c: Client) -> None:
        rng = random.Random(self.seed * 1000 + c.index)
        headers = {"Authorization": f"Bearer {c.token}"}
        today = dt.datetime.now(PROFILE_TZ).date()
        with (
            httpx.Client(base_url=c.write_url, headers=headers, timeout=CLIENT_TIMEOUT_S) as writer,
            httpx.Client(base_url=c.read_url, headers=headers, timeout=CLIENT_TIMEOUT_S) as reader,
        ):
            while not self._stop.is_set():
                if rng.random() < self.write_share:
                    checkins = sum(w.kind == "checkin" for w in c.writes)
                    if checkins < MAX_CHECKINS and rng.random() < 0.3:
                        day = today - dt.timedelta(days=checkins)
                        self._write(c, writer, Write("checkin", str(uuid.uuid4()), checkin_body(rng, day)))
                    else:
                        self._write(c, writer, Write("event", str(uuid.uuid4()), event_body(rng)))
                else:
                    self._read(c, reader, rng.choice(["timeline", "checkins", "export"]))

    def _write(self, c: Client, http: httpx.Client, w: Write) -> None:
        """Send until acknowledged (same key, same body), or until the load stops."""
        c.writes.append(w)
        path = "/api/v2/health/events" if w.kind == "event" else "/api/checkins"
        w.first_sent = time.monotonic()
        while not self._stop.is_set():
            w.tries += 1
            sent = time.monotonic()
            status, body, headers = _send(c, http, "POST", path, json=w.body, headers={"Idempotency-Key": w.key})
            w.statuses.append(status)
            if isinstance(status, int) and 200 <= status < 300:
                w.acked_at, w.sent_at = time.monotonic(), sent
                w.ident = str(body["event"]["id"] if w.kind == "event" else body["checkin"]["id"])
                lsn = headers.get(LSN_HEADER)
                if lsn and (c.lsn is None or lsn_value(lsn) > lsn_value(c.lsn)):
                    c.lsn = lsn
                return
            if isinstance(status, int) and 400 <= status < 500:
                c.bad.append(f"POST {path}: {status} {body}")  # never expected: the write is given up
                return
            time.sleep(RETRY_S)

    def _read(self, c: Client, http: httpx.Client, route: str) -> None:
        """timeline: the client's events; checkins: its check-ins; export: both (GET /api/users/me/export)."""
        kinds = {"timeline": {"event"}, "checkins": {"checkin"}, "export": {"event", "checkin"}}[route]
        expected = {w.ident for w in c.writes if w.ident and w.kind in kinds}
        headers = {LSN_HEADER: c.lsn} if c.lsn else {}
        sent = time.monotonic()
        if route == "timeline":
            status, body, _ = _send(c, http, "GET", "/api/v2/health/timeline?limit=1000", headers=headers)
            seen = {str(e["id"]) for e in body.get("timeline", [])} if status == 200 else set()
        elif route == "checkins":
            status, body, _ = _send(c, http, "GET", "/api/checkins?limit=100", headers=headers)
            seen = {str(e["id"]) for e in body.get("checkins", [])} if status == 200 else set()
        else:
            status, body, _ = _send(c, http, "GET", "/api/users/me/export", headers=headers)
            export = body.get("export", {}) if status == 200 else {}
            seen = {str(e["id"]) for e in export.get("events", []) + export.get("checkins", [])}
        read = Read(route, sent, time.monotonic(), status, expected)
        if status == 200:
            read.missing = expected - seen
        c.reads.append(read)
        if status != 200:
            time.sleep(RETRY_S)


def _send(
    c: Client, http: httpx.Client, method: str, path: str, **kwargs: Any
) -> tuple[int | str, dict[str, Any], httpx.Headers]:
    try:
        r = http.request(method, path, **kwargs)
    except httpx.TimeoutException:
        c.statuses["timeout"] += 1
        c.bad.append(f"{method} {path}: no answer within {CLIENT_TIMEOUT_S} s")
        return "timeout", {}, httpx.Headers()
    except httpx.TransportError as err:
        c.statuses["connection"] += 1
        c.bad.append(f"{method} {path}: {type(err).__name__}")
        return "connection", {}, httpx.Headers()
    c.statuses[str(r.status_code)] += 1
    try:
        body = r.json()
    except ValueError:
        body = {}
    if r.status_code >= 500 and not (r.status_code == 503 and r.headers.get("retry-after") and "code" in body):
        c.bad.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    return r.status_code, body, r.headers


def event_body(rng: random.Random) -> dict[str, Any]:
    return {
        "event_type": "mood",
        "event_subtype": SUBTYPE,
        "event_data": {"mood": rng.choice(["calm", "ok", "low"]), "confidence": rng.randint(1, 10)},
        "correlation_id": str(uuid.uuid4()),
    }


def checkin_body(rng: random.Random, day: dt.date) -> dict[str, Any]:
    return {
        "mood_today": rng.choice(["calm", "hopeful", "tired"]),
        "confidence_today": rng.randint(1, 10),
        "date_submitted": day.isoformat(),
        "medication_taken": rng.choice(["yes", "no"]),
    }


# ------------------------------------------------------------------------------------------------------- checking


@dataclass
class Verdict:
    acknowledged: int = 0
    found: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    unacked: int = 0  # writes still unacknowledged when the load stopped
    reads: int = 0
    stale: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


def verify(conn: psycopg.Connection[Any], clients: list[Client]) -> Verdict:
    """Every acknowledged write is stored exactly once (events by correlation_id, check-ins by user and date in
    daily_checkins, which holds every live check-in in both modes, each with the id its 2xx named); no write is stored
    twice, acknowledged or not; no read missed an earlier write."""
    v = Verdict()
    ids = [c.user_id for c in clients]
    events: Counter[str] = Counter()
    event_id: dict[str, str] = {}
    for corr, eid in conn.execute(
        "SELECT correlation_id::text, id::text FROM public.health_events WHERE user_id = ANY(%s::uuid[]) "
        "AND event_subtype = %s",
        (ids, SUBTYPE),
    ):
        events[corr] += 1
        event_id[corr] = eid
    live: Counter[tuple[str, str]] = Counter()
    live_id: dict[tuple[str, str], str] = {}
    for uid, day, cid in conn.execute(
        "SELECT user_id::text, date_submitted::text, id::text FROM public.daily_checkins "
        "WHERE user_id = ANY(%s::uuid[])",
        (ids,),
    ):
        live[(uid, day)] += 1
        live_id[(uid, day)] = cid
    for c in clients:
        v.statuses.update(c.statuses)
        v.bad += c.bad
        for w in c.writes:
            if w.kind == "event":
                corr = w.body["correlation_id"]
                n, stored = events.get(corr, 0), event_id.get(corr)
            else:
                slot = (c.user_id, w.body["date_submitted"])
                n, stored = live.get(slot, 0), live_id.get(slot)
            if n > 1:
                v.duplicates.append(f"{w.kind} {w.key}: stored {n} times")
            if w.acked_at is None:
                v.unacked += 1
                continue
            v.acknowledged += 1
            if n >= 1 and stored == w.ident:
                v.found += 1
            else:
                v.lost.append(f"{w.kind} {w.key} (acknowledged as {w.ident}): stored {n}, id {stored}")
        for r in c.reads:
            v.reads += 1
            if r.missing:
                v.stale.append(
                    f"client {c.index} {r.route}: {len(r.missing)} of {len(r.expected)} acknowledged missing"
                )
    return v


def first_write_after(clients: list[Client], instant: float) -> float | None:
    """Seconds from `instant` to the first acknowledgement of a write try sent after it."""
    acks = [w.acked_at for c in clients for w in c.writes if w.acked_at is not None and w.sent_at >= instant]
    return min(acks) - instant if acks else None


def longest_write_gap(clients: list[Client], start: float, end: float) -> float:
    """The longest time within [start, end] in which no client got a write acknowledged: the write outage."""
    acks = sorted(w.acked_at for c in clients for w in c.writes if w.acked_at and start <= w.acked_at <= end)
    points = [start, *acks, end]
    return max(b - a for a, b in itertools.pairwise(points))


def reads_by_source(metrics_text: str) -> dict[str, float]:
    """novara_read_calls_total by source, from a /metrics page."""
    out: dict[str, float] = {}
    for line in metrics_text.splitlines():
        if line.startswith("novara_read_calls_total{"):
            source = line.split('source="', 1)[1].split('"', 1)[0]
            out[source] = out.get(source, 0) + float(line.rsplit(" ", 1)[1])
    return out
