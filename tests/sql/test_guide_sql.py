"""The deployment guide's SQL, run verbatim with psql on a migrated database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from novara import embedded

# As in the guide, trailing spaces included.
GUIDE_STATS_QUERY = (
    "SELECT query, mean_exec_time, calls \n"
    "FROM pg_stat_statements \n"
    "WHERE query LIKE '%health_events%' \n"
    "ORDER BY mean_exec_time DESC;"
)


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    embedded_psql = embedded.bin_dir() / "psql"
    assert Path(embedded_psql).exists(), "no psql binary found"
    return str(embedded_psql)


def psql(db_url: str, command: str) -> subprocess.CompletedProcess[str]:
    """Run one command (SQL or a backslash command) the way a DBA would, stopping on the first error."""
    return subprocess.run(
        [_psql(), "-X", "-v", "ON_ERROR_STOP=1", "-d", db_url, "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PGTZ": "UTC", "PSQLRC": "/dev/null"},
    )


def ok(db_url: str, command: str) -> str:
    result = psql(db_url, command)
    assert result.returncode == 0, f"{command!r} failed ({result.returncode}): {result.stderr}"
    assert "ERROR" not in result.stderr, result.stderr
    return result.stdout


@pytest.fixture
def seeded(postgresql: psycopg.Connection, db_url: str) -> str:
    """Two users and five events (one of them superseded), committed so psql sees them."""
    postgresql.execute(
        """
        WITH u AS (
            INSERT INTO public.users (email) VALUES ('ann@example.com'), ('bob@example.com') RETURNING id
        ), p AS (
            INSERT INTO public.user_profiles (user_id) SELECT id FROM u RETURNING user_id
        )
        INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
        SELECT p.user_id, 'mood', '{"mood": "hopeful", "confidence": 7}', now() - g * interval '1 day',
               (now() - g * interval '1 day')::date
        FROM p CROSS JOIN generate_series(1, 2) AS g
        """
    )
    postgresql.execute(
        """
        INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date, action,
                                          related_event_id)
        SELECT user_id, event_type, '{"mood": "good"}', occurred_at, local_date, 'correct', id
        FROM public.health_events ORDER BY position LIMIT 1
        """
    )
    postgresql.commit()
    return db_url


def test_count_health_events(seeded: str) -> None:
    out = ok(seeded, "SELECT COUNT(*) FROM health_events;")
    assert out.split("\n")[2].strip() == "5", out


def test_materialized_view_freshness_and_refresh(seeded: str) -> None:
    freshness = "SELECT last_updated FROM user_daily_metrics ORDER BY last_updated DESC LIMIT 1;"
    out = ok(seeded, freshness)
    assert "(0 rows)" in out, "not refreshed since the migration created it (empty then)"

    assert "REFRESH MATERIALIZED VIEW" in ok(seeded, "REFRESH MATERIALIZED VIEW user_daily_metrics;")
    out = ok(seeded, freshness)
    assert "(1 row)" in out and "last_updated" in out, out
    first = out.split("\n")[2].strip()

    assert "REFRESH MATERIALIZED VIEW" in ok(seeded, "REFRESH MATERIALIZED VIEW CONCURRENTLY user_daily_metrics;")
    second = ok(seeded, freshness).split("\n")[2].strip()
    assert second > first, (first, second)
    # the snapshot holds the live data: 4 user-days, the superseded event not counted
    out = ok(seeded, "SELECT count(*), sum(event_count) FROM user_daily_metrics;")
    assert [cell.strip() for cell in out.split("\n")[2].split("|")] == ["4", "4"], out


def test_dt_health_events(seeded: str) -> None:
    out = ok(seeded, r"\dt health_events")
    assert "public | health_events | table" in out, out


def test_di_user_daily_metrics(seeded: str) -> None:
    # As written in the guide: psql matches the pattern against index names, and an index cannot share the
    # materialized view's name (one namespace per schema), so this lists nothing but must still work.
    result = psql(seeded, r"\di user_daily_metrics")
    assert result.returncode == 0, result.stderr
    # Every index of the view is found by its prefix (and \d shows them under the view).
    out = ok(seeded, r"\di user_daily_metrics*")
    assert "user_daily_metrics_user_date | index | " in out and "| user_daily_metrics" in out, out
    out = ok(seeded, r"\d user_daily_metrics")
    assert '"user_daily_metrics_user_date" UNIQUE, btree (user_id, date)' in out, out
    out = ok(seeded, r"\d user_weekly_metrics")
    assert '"user_weekly_metrics_user_week" UNIQUE, btree (user_id, week_start)' in out, out


def test_pg_stat_statements_query(seeded: str) -> None:
    ok(seeded, "SELECT COUNT(*) FROM health_events;")  # something to report on
    result = psql(seeded, GUIDE_STATS_QUERY)
    if result.returncode != 0 and "shared_preload_libraries" in result.stderr:
        pytest.skip("this server does not preload pg_stat_statements: " + result.stderr.strip())
    assert result.returncode == 0, result.stderr
    header = [column.strip() for column in result.stdout.split("\n")[0].split("|")]
    assert header == ["query", "mean_exec_time", "calls"], result.stdout
    assert "FROM health_events" in result.stdout, result.stdout


def test_comments_show_in_psql(seeded: str) -> None:
    out = ok(seeded, r"\d+ health_events")
    assert "Monotonic sequence number" in out, out  # column comments in the Description column
    out = ok(seeded, r"\dt+ health_events")
    assert "Immutable, append-only log of health events" in out, out
    out = ok(seeded, r"\df+ api.timeline")
    assert "GET /api/v2/health/timeline" in out, out
    for view in ("user_daily_metrics", "user_weekly_metrics", "user_daily_metrics_live"):
        out = ok(seeded, rf"\dv+ {view}" if view.endswith("_live") else rf"\dm+ {view}")
        assert "Description" in out and ("Snapshot" in out or "Per user" in out or "from the live events" in out), (
            view,
            out,
        )
    for function in ("api.create_event", "api.daily_summary", "api.analytics", "api.status"):
        out = ok(seeded, rf"\df+ {function}")
        assert "/api/v2/" in out, (function, out)
    out = ok(seeded, r"\df+ refresh_user_metrics")
    assert "Refresh user_daily_metrics then user_weekly_metrics" in out, out
