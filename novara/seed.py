"""Synthetic users with realistic history, written fast (novara/seed.sql): for benchmarks, load tests and demos.

Users sign up through api.signup (emails <prefix><k>@bench.invalid, grouped in cohorts); their check-ins and V2
events are planned deterministically from a seed, then written set-based with exactly the rows the api functions
write (bench/tests/test_generator.py compares both paths), or through the functions themselves.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

SEED_SQL = Path(__file__).resolve().parent / "seed.sql"


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
