"""Synthetic users with realistic history, written fast (novara/seed.sql): the named data sets of the benchmark,
the recovery drill and the load tests.

Users sign up through api.signup (emails <prefix><k>@bench.invalid, grouped in cohorts); their check-ins and V2
events are planned deterministically from a seed, then written set-based with exactly the rows the api functions
write (bench/tests/test_generator.py compares both paths), or through the functions themselves.

Cohorts of a data set (`load`):
  load     u<k>          N users with D days of history (a check-in on ~85 % of days, V2 events)
  hist     hist30d-0, hist90d-0, hist3y-0: a check-in every day for 30 days, 90 days and 3 years
  writer   w<k>          no history; the create-check-in measurements write their check-ins
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

SEED_SQL = Path(__file__).resolve().parent / "seed.sql"
CHECKIN_PROBABILITY = 0.85
HISTORY_USERS: dict[str, int] = {"hist30d-": 30, "hist90d-": 90, "hist3y-": 1095}


def install(conn: psycopg.Connection) -> None:
    """Create (or replace) schema seed and its functions in the database."""
    conn.execute(SEED_SQL.read_text())  # type: ignore[arg-type]


def signup(
    conn: psycopg.Connection, seed: int, cohort: str, prefix: str, first: int, count: int, days: int, p: float
) -> int:
    row = conn.execute(
        "SELECT seed.signup_users(%s, %s, %s, %s, %s, %s, %s)", (seed, cohort, prefix, first, count, days, p)
    ).fetchone()
    return int(row[0]) if row else 0


def write_cohort(
    conn: psycopg.Connection, seed: int, cohort: str, first: int, last: int, *, bulk: bool = True
) -> tuple[int, int, float, float]:
    """Plan and write users [first, last) of a cohort in one transaction: (check-ins, events, plan s, write s).

    Bulk: set-based INSERTs with foreign-key triggers off for the transaction (session_replication_role =
    replica; every referenced row is the generator's own), else one api.* call per check-in / event.
    """
    with conn.transaction():
        conn.execute("SET LOCAL work_mem = '256MB'")
        started = time.perf_counter()
        row = conn.execute("SELECT seed.plan(%s, %s, %s, %s)", (seed, cohort, first, last)).fetchone()
        checkins = int(row[0]) if row else 0
        planned = time.perf_counter()
        if bulk:
            conn.execute("SET LOCAL session_replication_role = replica")
            row = conn.execute("SELECT seed.load_bulk()").fetchone()
            events = int(row[0]) if row else 0
        else:
            count = "SELECT count(*) FROM public.health_events"
            before = conn.execute(count).fetchone()
            conn.execute("SELECT seed.load_functions()")
            after = conn.execute(count).fetchone()
            events = int(after[0]) - int(before[0]) if after and before else 0
        conn.execute("TRUNCATE seed.plan_checkins, seed.plan_events")
        written = time.perf_counter()
    return checkins, events, planned - started, written - planned


@dataclass(frozen=True)
class Size:
    name: str
    users: int
    days: int
    chunk: int = 1000  # users planned and inserted per transaction


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 20, 14, chunk=20),
    "small": Size("small", 1_000, 90),
    "medium": Size("medium", 10_000, 365, chunk=500),
    "large": Size("large", 25_000, 365, chunk=500),
}


@dataclass
class LoadStats:
    users: int = 0
    checkins: int = 0
    events: int = 0
    signup_s: float = 0.0
    plan_s: float = 0.0
    insert_s: float = 0.0
    vacuum_analyze_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def write_s(self) -> float:
        return self.plan_s + self.insert_s

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        out.update(self.extra)
        out["events_per_s"] = round(self.events / self.write_s) if self.write_s else None
        out["checkins_per_s"] = round(self.checkins / self.write_s) if self.write_s else None
        out["signups_per_s"] = round(self.users / self.signup_s) if self.signup_s else None
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def load(
    conn: psycopg.Connection,
    size: Size,
    *,
    seed: int,
    writers: int,
    log: Callable[[str], None] = print,
) -> LoadStats:
    """Sign up every cohort and write the history; conn must be autocommit (each chunk is a transaction)."""
    stats = LoadStats()
    install(conn)
    started = time.perf_counter()
    for first in range(0, size.users, size.chunk):
        stats.users += signup(conn, seed, "load", "u", first, min(size.chunk, size.users - first), size.days, 0.85)
    for prefix, days in HISTORY_USERS.items():
        stats.users += signup(conn, seed, "hist", prefix, 0, 1, days, 1.0)
    stats.users += signup(conn, seed, "writer", "w", 0, writers, 0, 0.0)
    stats.signup_s = time.perf_counter() - started
    log(f"signed up {stats.users} users in {stats.signup_s:.1f} s")

    chunks = [(("load", first, min(first + size.chunk, size.users))) for first in range(0, size.users, size.chunk)]
    chunks.append(("hist", 0, 1))
    for i, (cohort, first, last) in enumerate(chunks, 1):
        checkins, events, plan_s, insert_s = write_cohort(conn, seed, cohort, first, last)
        stats.checkins += checkins
        stats.events += events
        stats.plan_s += plan_s
        stats.insert_s += insert_s
        if len(chunks) > 2 and (i % 5 == 0 or i == len(chunks)):
            log(f"  {i}/{len(chunks)} chunks: {stats.events:,} events, {stats.events / stats.write_s:,.0f} events/s")
    log(
        f"wrote {stats.checkins:,} check-ins and {stats.events:,} events in {stats.write_s:.1f} s "
        f"({stats.events / max(stats.write_s, 1e-9):,.0f} events/s)"
    )
    started = time.perf_counter()
    conn.execute("VACUUM (ANALYZE)")
    stats.vacuum_analyze_s = time.perf_counter() - started
    row = conn.execute(
        "SELECT pg_database_size(current_database()), pg_total_relation_size('public.health_events'), "
        "(SELECT count(*) FROM public.health_events)"
    ).fetchone()
    if row:
        stats.extra.update({"database_bytes": row[0], "health_events_bytes": row[1], "health_events_rows": row[2]})
    return stats
