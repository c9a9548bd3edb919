"""`python -m bench.partitioning`: per-user reads of an event log, unpartitioned vs partitioned by month.

Two tables of the same synthetic rows (300 users x 3 years x 3 events a day, the 3-year users' shape of the bench
data), one plain and one PARTITION BY RANGE (recorded_at) monthly, each with the per-user indexes of health_events;
for each per-user read the routes make: partitions scanned, shared buffers hit, planning and execution time
(EXPLAIN ANALYZE) and the p50 of 20 runs. docs/scale-out.md quotes a run. A throwaway embedded server under
/dev/shm (or the temp dir).
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import psycopg

from novara import embedded

COLUMNS = (
    "id uuid NOT NULL, user_id uuid NOT NULL, occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL, "
    "local_date date NOT NULL, event_data jsonb"
)
FILL = """
    INSERT INTO {t}
    SELECT gen_random_uuid(), u.id, t, t, t::date, jsonb_build_object('mood', 'ok', 'n', k)
    FROM u,
        generate_series(timestamptz '2024-01-01 09:00+00', timestamptz '2026-12-30 09:00+00', interval '1 day') AS t,
        generate_series(1, 3) AS k
"""
RECENT = "timestamptz '2026-12-01'"
QUERIES = {
    "latest 100 (timeline, no bound)": "SELECT * FROM {t} WHERE user_id = %s ORDER BY occurred_at DESC LIMIT 100",
    "last 30 days by occurred_at (timeline)": (
        f"SELECT * FROM {{t}} WHERE user_id = %s AND occurred_at >= {RECENT} ORDER BY occurred_at DESC LIMIT 100"
    ),
    "last 30 days, bounded on recorded_at too": (
        f"SELECT * FROM {{t}} WHERE user_id = %s AND occurred_at >= {RECENT} AND recorded_at >= {RECENT} "
        "ORDER BY occurred_at DESC LIMIT 100"
    ),
    "one local day (daily summary)": "SELECT * FROM {t} WHERE user_id = %s AND local_date = date '2026-06-15'",
    "whole history (export, erasure)": "SELECT count(*) FROM {t} WHERE user_id = %s",
}


def _sum(node: dict[str, Any], key: str) -> int:
    return int(node.get(key, 0)) + sum(_sum(p, key) for p in node.get("Plans", []))


def _scans(node: dict[str, Any]) -> int:
    own = 1 if "Scan" in node["Node Type"] and node.get("Relation Name") else 0
    return own + sum(_scans(p) for p in node.get("Plans", []))


def _size(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(
        "SELECT sum(pg_total_relation_size(r)) FROM (SELECT %s::regclass AS r UNION ALL "
        "SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = %s::regclass) AS x",
        (table, table),
    ).fetchone()
    return int(row[0]) if row else 0


def run(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE u AS SELECT gen_random_uuid() AS id FROM generate_series(1, 300)")
    conn.execute(f"CREATE TABLE ev ({COLUMNS})")
    conn.execute(f"CREATE TABLE evp ({COLUMNS}) PARTITION BY RANGE (recorded_at)")
    for m in range(37):
        conn.execute(
            f"CREATE TABLE evp_{m} PARTITION OF evp FOR VALUES FROM (timestamptz '2024-01-01' + interval '{m} month') "
            f"TO (timestamptz '2024-01-01' + interval '{m + 1} month')"
        )
    for t in ("ev", "evp"):
        started = time.perf_counter()
        conn.execute(FILL.format(t=t))
        load_s = time.perf_counter() - started
        conn.execute(f"CREATE INDEX ON {t} (user_id, occurred_at)")
        conn.execute(f"CREATE INDEX ON {t} (user_id, local_date)")
        conn.execute(f"VACUUM ANALYZE {t}")
        rows = conn.execute(f"SELECT count(*) FROM {t}").fetchone()
        print(f"{t}: {rows[0] if rows else 0:,} rows, {_size(conn, t):,} bytes, loaded in {load_s:.1f} s")
    row = conn.execute("SELECT id FROM u LIMIT 1").fetchone()
    uid = row[0] if row else None
    print("| read | table | partitions scanned | shared hit | planning ms | execution ms | p50 ms |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for label, query in QUERIES.items():
        for t in ("ev", "evp"):
            sql = query.format(t=t)
            for _ in range(3):
                conn.execute(sql, [uid]).fetchall()
            times = []
            for _ in range(20):
                started = time.perf_counter()
                conn.execute(sql, [uid]).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            explained = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, [uid]).fetchone()
            plan = explained[0][0] if explained else {}
            times.sort()
            name = "monthly partitions" if t == "evp" else "one table"
            print(
                f"| {label} | {name} | {_scans(plan['Plan'])} | {_sum(plan['Plan'], 'Shared Hit Blocks')} "
                f"| {plan['Planning Time']:.2f} | {plan['Execution Time']:.2f} | {times[len(times) // 2]:.2f} |"
            )


def main() -> None:
    root = embedded.scratch_root() / f"novara-partitioning-{int(time.time())}"
    root.mkdir(parents=True)
    server = embedded.start(root / "pg", fast=True, delete=True)
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            run(conn)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
