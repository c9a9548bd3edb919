"""`novara monitor`: the deployment guide's monitoring in one place, from SQL (core.monitoring, as the owner).

Prints the event log's pace, the metrics views' freshness, the api functions that cost the database most
(pg_stat_statements, where loaded), the gateway's connections, the WAL archive (replication slots, archiver) and
the audit's reads of the last day; `--json` prints the function's document as it is. Exit 1 when the database
cannot be read.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

import psycopg


def report(url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT core.monitoring()").fetchone()
    doc: dict[str, Any] = row[0] if row else {}
    return doc


def render(doc: dict[str, Any], out: TextIO) -> None:
    events = doc["events"]
    total = events["total_estimate"]
    size = f"~{total} in the log" if total is not None else "log size not estimated yet (ANALYZE)"
    print(f"novara monitor, {doc['generated_at']}", file=out)
    print(
        f"events: {events['per_minute_last_hour']}/min over the last hour ({events['last_minute']} in the last "
        f"minute, {events['last_5_minutes']} in 5 minutes, {events['last_hour']} in the hour); "
        f"{size}; latest recorded {events['latest_recorded_at'] or 'never'}",
        file=out,
    )
    for view, state in doc["metrics_views"].items():
        if state.get("last_refresh"):
            age = f"refreshed {state['age_seconds']} s ago in {state['duration_ms']} ms"
            age += " (concurrently)" if state["concurrent"] else ""
        else:
            age = "never refreshed through refresh_user_metrics()"
        print(f"{view}: {age}{'' if state.get('populated') else ', NOT POPULATED'}", file=out)
    top = doc["top_api_functions"]
    if top["status"] != "ok":
        print(f"top api functions: unavailable: {top['status']}", file=out)
    else:
        print("top api functions by total time (pg_stat_statements):", file=out)
        print(f"  {'function':<32} {'calls':>9} {'total ms':>11} {'mean ms':>9} {'max ms':>9}", file=out)
        for f in top["by_total_time"]:
            print(
                f"  {f['function']:<32} {f['calls']:>9} {f['total_ms']:>11} {f['mean_ms']:>9} {f['max_ms']:>9}",
                file=out,
            )
    gw = doc["gateway_connections"]
    print(
        f"gateway connections: {gw['total']} ({gw['active']} active, {gw['idle']} idle, "
        f"{gw['waiting_on_locks']} waiting on locks)",
        file=out,
    )
    wal = doc["wal_archive"]
    slots = ", ".join(
        f"{s['slot']} {'active' if s['active'] else 'INACTIVE'} ({s['retained_bytes']} bytes held)"
        for s in wal["slots"]
    )
    archiver = wal["archiver"]
    print(
        f"WAL archive: slots: {slots or 'none'}; archive_command: {archiver['archived']} archived, "
        f"{archiver['failed']} failed{', FAILING' if archiver['failing'] else ''}",
        file=out,
    )
    audit = doc["audited_reads_last_day"]
    print(
        f"audited reads, last 24 h: {audit['records']} records, {audit['readers']} readers, {audit['people']} people "
        "(docs/audit.md)",
        file=out,
    )


def monitor(url: str, out: TextIO, *, as_json: bool = False) -> int:
    try:
        doc = report(url)
    except psycopg.Error as err:
        print(f"novara monitor: {str(err).strip()}", file=out)
        return 1
    if as_json:
        print(json.dumps(doc, indent=2, ensure_ascii=False), file=out)
    else:
        render(doc, out)
    return 0
