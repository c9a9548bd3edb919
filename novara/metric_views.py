"""`novara check-metrics` and `novara refresh-metrics`: the materialized metrics views, for operators.

check-metrics reports, per view: existence, columns, indexes (a plain unique index is what REFRESH
MATERIALIZED VIEW CONCURRENTLY needs), row count, freshness and one sample row. refresh-metrics runs
public.refresh_user_metrics(true) and prints each view's duration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO

import psycopg
from psycopg import sql

VIEWS = ("user_daily_metrics", "user_weekly_metrics")
CONNECT_TIMEOUT_S = 5

RELATION_SQL = """
SELECT c.oid, c.relkind::text, c.relispopulated
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname = %s
"""
COLUMNS_SQL = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
# REFRESH ... CONCURRENTLY needs a valid unique index on plain columns without a WHERE clause.
INDEXES_SQL = """
SELECT i.relname, x.indisunique,
       x.indisunique AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL,
       pg_catalog.pg_get_indexdef(x.indexrelid)
FROM pg_catalog.pg_index AS x JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
WHERE x.indrelid = %s
ORDER BY i.relname
"""
LAST_REFRESH_SQL = """
SELECT l.refreshed_at, l.duration_ms, l.was_concurrent, extract(EPOCH FROM now() - l.refreshed_at)::float8
FROM public.metrics_refresh_log AS l
WHERE l.view_name = %s
ORDER BY l.refreshed_at DESC, l.id DESC
LIMIT 1
"""
# `novara migrate` re-applies a repeatable file only when its text changed: forget it first.
REAPPLY = "DELETE FROM public.schema_migrations WHERE name = 'views/{view}.sql'; then `novara migrate`"
KIND = {"m": "materialized view", "v": "view (not materialized)", "r": "table (not a materialized view)"}


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)


def ago(seconds: float) -> str:
    """A duration in the unit a person reads best: 42 s, 5 min, 3.2 h, 2.1 days."""
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def when(ts: dt.datetime | None) -> str:
    return ts.isoformat(timespec="seconds") if ts else "-"


def describe_error(err: Exception) -> str:
    if isinstance(err, psycopg.Error):
        text = (err.diag.message_primary or str(err)).strip()
        return f"[{err.sqlstate}] {text}" if err.sqlstate else text
    return str(err)


def check_view(conn: psycopg.Connection[Any], view: str, out: TextIO) -> list[str]:
    """Print the report of one view; the problems that make check-metrics fail."""
    print(view, file=out)
    rel = conn.execute(RELATION_SQL, (view,)).fetchone()
    if rel is None:
        print(f"  ❌ missing: no relation public.{view}", file=out)
        print(f"     re-create it: {REAPPLY.format(view=view)}", file=out)
        return [f"{view} is missing"]
    oid, kind, populated = rel
    problems: list[str] = []
    if kind != "m":
        print(f"  ❌ exists, but is a {KIND.get(kind, kind)}", file=out)
        problems.append(f"{view} is not a materialized view")
    else:
        state = "populated" if populated else "NOT populated (run `novara refresh-metrics`)"
        print(f"  {'✅' if populated else '⚠️ '} exists: materialized view, {state}", file=out)

    columns = conn.execute(COLUMNS_SQL, (oid,)).fetchall()
    width = max((len(name) for name, _ in columns), default=0)
    print(f"  columns ({len(columns)}):", file=out)
    for name, typ in columns:
        print(f"    {name:<{width}}  {typ}", file=out)

    indexes = conn.execute(INDEXES_SQL, (oid,)).fetchall()
    print(f"  indexes ({len(indexes)}):", file=out)
    for name, unique, _usable, definition in indexes:
        method = definition.split(" USING ", 1)[-1]  # e.g. "btree (user_id, date)"
        print(f"    {name}: {'UNIQUE' if unique else 'non-unique'} {method}", file=out)
    if any(usable for *_, usable, _ in indexes):
        print("  ✅ unique index present: REFRESH MATERIALIZED VIEW CONCURRENTLY works", file=out)
    else:
        print("  ❌ no unique index: REFRESH MATERIALIZED VIEW CONCURRENTLY is impossible", file=out)
        problems.append(f"{view} has no unique index")

    names = {name for name, _ in columns}
    table = sql.Identifier("public", view)
    if kind in {"m", "v", "r"} and (populated or kind != "m"):
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        print(f"  rows: {count[0] if count else 0}", file=out)
        if "last_updated" in names:
            query = sql.SQL(
                "SELECT max(last_updated), extract(EPOCH FROM now() - max(last_updated))::float8 FROM {}"
            ).format(table)
            row = conn.execute(query).fetchone()
            if row and row[0] is not None:
                print(f"  freshness: max(last_updated) {when(row[0])} ({ago(row[1])})", file=out)
            else:
                print("  freshness: max(last_updated) - (the view is empty)", file=out)
        sample = conn.execute(sql.SQL("SELECT row_to_json(t)::text FROM {} AS t LIMIT 1").format(table)).fetchone()
        print(f"  sample row: {sample[0] if sample else '- (no rows)'}", file=out)
    print(f"  last refresh: {last_refresh(conn, view)}", file=out)
    return problems


def last_refresh(conn: psycopg.Connection[Any], view: str) -> str:
    exists = conn.execute("SELECT to_regclass('public.metrics_refresh_log') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return "- (public.metrics_refresh_log is missing)"
    row = conn.execute(LAST_REFRESH_SQL, (view,)).fetchone()
    if row is None:
        return "never logged (no row in metrics_refresh_log; refresh with `novara refresh-metrics`)"
    at, ms, concurrent, age = row
    mode = "concurrently" if concurrent else "not concurrently"
    return f"{when(at)} ({ago(age)}), took {ms} ms, {mode}"


def check_metrics(url: str, out: TextIO) -> int:
    """0 when both views exist and can be refreshed concurrently; 1 otherwise."""
    try:
        conn = connect(url)
    except psycopg.OperationalError as err:
        print(f"❌ cannot connect to the database: {describe_error(err)}", file=out)
        return 1
    problems: list[str] = []
    with conn:
        for view in VIEWS:
            try:
                problems += check_view(conn, view, out)
            except psycopg.Error as err:
                print(f"  ❌ {view}: {describe_error(err)}", file=out)
                problems.append(f"{view}: {describe_error(err)}")
            print(file=out)
    if problems:
        print(f"check-metrics: FAILED: {'; '.join(problems)}", file=out)
        return 1
    print("check-metrics: OK", file=out)
    return 0


def refresh_metrics(url: str, out: TextIO) -> int:
    """Run public.refresh_user_metrics(true); 0 on success, 1 with the error otherwise."""
    try:
        with connect(url) as conn:
            row = conn.execute("SELECT public.refresh_user_metrics(true)").fetchone()
    except psycopg.Error as err:
        print(f"❌ refresh failed: {describe_error(err)}", file=out)
        return 1
    result: dict[str, Any] = row[0] if row else {}
    for view in VIEWS:
        info = result.get(view) or {}
        mode = "concurrently" if info.get("concurrent") else "not concurrently (the view was not populated)"
        print(f"✅ {view} refreshed in {info.get('duration_ms', '?')} ms, {mode}", file=out)
    print(f"refresh-metrics: done at {result.get('refreshed_at', '?')}", file=out)
    return 0
