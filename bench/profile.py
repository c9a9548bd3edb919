"""Where the database time goes: pg_stat_statements per route, auto_explain plans of the slowest route."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg

from .pgbench import EMAIL_DOMAIN
from .routes import DATE_PLACEHOLDER, RouteClass, by_key

_DURATION = re.compile(r"duration: ([\d.]+) ms")


def statements_available(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements'").fetchone()
    return bool(row and row[0])


def reset_statements(conn: psycopg.Connection) -> None:
    """Forget this database's statement statistics (only this database's)."""
    conn.execute(
        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_catalog.pg_database "
        "WHERE datname = current_database()), 0)"
    )


def top_statements(conn: psycopg.Connection, function: str, limit: int = 5) -> dict[str, Any]:
    """The route's top-level call (mean ms) and the nested statements that took most of its time."""
    where = "dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
    top = conn.execute(
        f"SELECT calls, total_exec_time FROM pg_stat_statements WHERE {where} AND toplevel AND query LIKE %s "
        "ORDER BY calls DESC LIMIT 1",
        (f"%{function}(%",),
    ).fetchone()
    calls, total = (int(top[0]), float(top[1])) if top else (0, 0.0)
    rows = conn.execute(
        f"SELECT query, calls, total_exec_time, rows FROM pg_stat_statements WHERE {where} AND NOT toplevel "
        "ORDER BY total_exec_time DESC LIMIT %s",
        (limit,),
    ).fetchall()
    nested = [
        {
            "query": " ".join(str(q).split())[:300],
            "calls_per_request": round(int(c) / calls, 2) if calls else None,
            "ms_per_request": round(float(t) / calls, 4) if calls else None,
            "share_of_call": round(float(t) / total, 3) if total else None,
            "rows": int(r),
        }
        for q, c, t, r in rows
    ]
    return {"calls": calls, "mean_ms": round(total / calls, 4) if calls else None, "nested": nested}


def explain(conn: psycopg.Connection, rc: RouteClass, email: str, limit: int = 4) -> list[dict[str, Any]]:
    """Run the route's call once as the gateway would, with auto_explain (ANALYZE, nested statements)
    reporting to this session; rolled back. Returns the slowest plans, slowest first."""
    notices: list[str] = []
    conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    args = rc.call_args().replace(DATE_PLACEHOLDER, "2000-06-01")
    claims = json.dumps({"email": email})
    with conn.transaction(force_rollback=True):
        conn.execute("LOAD 'auto_explain'")
        for name, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_buffers", "on"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
        ):
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        conn.execute(
            "SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', %s, true)", (claims,)
        )
        conn.execute(f"SELECT {rc.function}(%s::jsonb)", (args,))  # type: ignore[arg-type]
    plans = []
    for text in notices:
        found = _DURATION.search(text)
        if found:
            plans.append({"duration_ms": float(found.group(1)), "plan": text[:6000]})
    plans.sort(key=lambda p: -p["duration_ms"])
    return plans[:limit]


def slowest(conn: psycopg.Connection, routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The route with the highest direct 1-client p50: its statements and the plans of one call."""
    key = max(routes, key=lambda k: routes[k]["direct_1"]["p50_ms"])
    rc = by_key(key)
    email = f"{'w' if rc.writes_checkins else 'u'}0@{EMAIL_DOMAIN}"
    return {
        "route": key,
        "label": routes[key]["label"],
        "p50_ms": routes[key]["direct_1"]["p50_ms"],
        "statements": routes[key]["statements"],
        "plans": explain(conn, rc, email),
    }
