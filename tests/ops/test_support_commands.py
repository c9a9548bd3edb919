"""The support commands (docs/operations.md): check-metrics, refresh-metrics, selftest, smoke.

Each runs as `python -m novara.cli …` against a fresh migrated database, as an operator would run it.
"""

from __future__ import annotations

import json
import re
import signal
import socket

import psycopg
import pytest

from tests._serve import gateway_env, start
from tests.conftest import novara, novara_env

# what a throwaway user could leave behind
LEFTOVERS = (
    "SELECT (SELECT count(*) FROM public.users), (SELECT count(*) FROM public.user_profiles), "
    "(SELECT count(*) FROM public.health_events), (SELECT count(*) FROM public.daily_checkins)"
)


def leftovers(db_url: str) -> tuple[int, ...]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(LEFTOVERS).fetchone()
    assert row is not None
    return tuple(row)


def run_sql(db_url: str, statement: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


@pytest.mark.parametrize("sub", ["check-metrics", "refresh-metrics", "monitor", "selftest", "smoke"])
def test_help(sub: str) -> None:
    r = novara(sub, "--help", env=novara_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: novara {sub}")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["smoke", "--url", "localhost:8000"], "http://"),
        (["smoke", "--timeout", "soon"], "seconds"),
        (["smoke", "--timeout", "0"], "between"),
        (["check-metrics", "--verbose"], "unrecognized"),
        (["selftest", "extra"], "unrecognized"),
    ],
)
def test_bad_arguments(args: list[str], needle: str) -> None:
    r = novara(*args, env=novara_env())
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert needle in r.stderr


def test_check_metrics_on_a_migrated_database(db_url: str) -> None:
    r = novara("check-metrics", env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "user_daily_metrics_user_date: UNIQUE btree (user_id, date)" in out
    assert "user_weekly_metrics_user_week: UNIQUE btree (user_id, week_start)" in out
    assert "    last_updated         timestamp with time zone" in out
    assert out.count("rows: 0") == 2
    assert out.rstrip().endswith("check-metrics: OK")


def test_refresh_then_check_shows_freshness_and_a_sample(db_url: str) -> None:
    env = novara_env(DATABASE_URL=db_url)
    assert novara("selftest", env=env).returncode == 0  # rolled back: the views stay empty
    run_sql(db_url, "INSERT INTO public.users (email) VALUES ('m@example.com')")
    run_sql(
        db_url,
        "INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date) "
        "SELECT id, 'mood', '{\"mood\":\"hopeful\"}', now(), current_date FROM public.users",
    )
    r = novara("refresh-metrics", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "✅ user_daily_metrics refreshed in" in r.stdout and "✅ user_weekly_metrics refreshed in" in r.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        logged = conn.execute("SELECT view_name FROM public.metrics_refresh_log ORDER BY id").fetchall()
    assert [v for (v,) in logged] == ["user_daily_metrics", "user_weekly_metrics"]
    out = novara("check-metrics", env=env).stdout
    assert out.count("rows: 1") == 2
    assert '"latest_mood":"hopeful"' in out
    assert out.count("s ago), took") == 2  # the latest row of metrics_refresh_log, per view


def test_check_and_refresh_fail_when_a_view_is_broken(db_url: str) -> None:
    env = novara_env(DATABASE_URL=db_url)
    run_sql(db_url, "DROP INDEX public.user_daily_metrics_user_date")
    r = novara("check-metrics", env=env)
    assert r.returncode == 1
    assert "check-metrics: FAILED: user_daily_metrics has no unique index" in r.stdout

    # CASCADE: the analysts' recording view (db/views/analyst_weekly_metrics.sql) depends on it
    run_sql(db_url, "DROP MATERIALIZED VIEW public.user_weekly_metrics CASCADE")
    r = novara("check-metrics", env=env)
    assert r.returncode == 1
    assert "❌ missing: no relation public.user_weekly_metrics" in r.stdout
    assert "user_weekly_metrics is missing" in r.stdout.splitlines()[-1]

    r = novara("refresh-metrics", env=env)
    assert r.returncode == 1
    assert r.stdout.startswith("❌ refresh failed: [")
    assert "Traceback" not in r.stdout + r.stderr


def test_selftest_passes_and_leaves_nothing(db_url: str) -> None:
    before = leftovers(db_url)
    r = novara("selftest", env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert sum(line.startswith("✅ ") for line in lines) == 16
    assert not any(line.startswith("❌") for line in lines)
    for step in ("signup", "create check-in (every field)", "create event again (idempotent replay)", "analytics"):
        assert any(line.startswith(f"✅ {step} (") for line in lines), step
    assert lines[-1] == "selftest: all 16 steps passed"
    assert leftovers(db_url) == before == (0, 0, 0, 0)


def test_selftest_reports_a_failing_step_and_goes_on(db_url: str) -> None:
    run_sql(db_url, "DROP FUNCTION api.analytics(jsonb)")
    r = novara("selftest", env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert "❌ analytics: [42883] function api.analytics(jsonb) does not exist" in lines
    assert any(line.startswith("✅ delete check-in (") for line in lines)  # the steps after it still ran
    assert lines[-1] == "selftest: 15/16 steps passed; failed: analytics"
    assert leftovers(db_url) == (0, 0, 0, 0)


def test_selftest_cannot_connect() -> None:
    r = novara("selftest", env=novara_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    assert r.returncode == 1
    assert r.stdout.startswith("❌ cannot connect to the database:")
    assert "Traceback" not in r.stdout + r.stderr


def test_smoke_against_a_live_gateway(db_url: str, gateway_url: str) -> None:
    proc, base = start(gateway_env(db_url, gateway_url))
    try:
        r = novara("smoke", "--url", base, env=novara_env())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    steps = [line for line in lines if line[:1] in {"✅", "❌"}]
    assert len(steps) == 10 and all(line.startswith("✅ ") for line in steps), r.stdout
    assert any(line.startswith("✅ POST /api/v2/health/events again (replay) (") for line in steps)
    assert "smoke: all 10 steps passed" in lines
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT u.id), count(e.id) FROM public.users AS u "
            "LEFT JOIN public.health_events AS e ON e.user_id = u.id WHERE u.email LIKE 'smoke-%@novara.invalid'"
        ).fetchone()
    assert row is not None and row[0] == 1 and row[1] >= 3  # one user; the check-in's events + one event (replayed)


def test_smoke_passes_in_v1_mode_with_503_from_v2_routes(db_url: str, gateway_url: str) -> None:
    proc, base = start(gateway_env(db_url, gateway_url, USE_SCHEMA_V2="off"))
    try:
        r = novara("smoke", "--url", base, env=novara_env())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout  # V1 mode: check-ins on the legacy table, V2 routes 503 as expected
    assert not [line for line in lines if line.startswith("❌")], r.stdout
    assert any(line.startswith("✅ GET /api/v2/status (") and "schema_v2_enabled=false" in line for line in lines)
    for path in ("/api/v2/health/events (Idempotency-Key)", "/api/v2/health/timeline", "/api/v2/analytics"):
        assert any(
            line.startswith("✅ ") and path in line and line.endswith("503 as expected (USE_SCHEMA_V2 is off)")
            for line in lines
        ), (path, r.stdout)


def test_smoke_against_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = novara("smoke", "--url", f"http://127.0.0.1:{port}", env=novara_env())
    assert r.returncode == 1
    assert [line for line in r.stdout.splitlines() if line.startswith("❌")] == [
        f"❌ GET /api/health: cannot connect to http://127.0.0.1:{port}: [Errno 111] Connection refused"
    ]
    assert "Traceback" not in r.stdout + r.stderr and r.stderr == ""


def test_monitor_reports_events_freshness_and_top_functions(db_url: str, gateway_url: str) -> None:

    from gateway.db import GATEWAY_ROLE, call_statement

    with psycopg.connect(gateway_url, autocommit=True) as gw:  # what the gateway runs, statement for statement
        gw.execute(f"SET ROLE {GATEWAY_ROLE}")  # type: ignore[arg-type]  # a constant name
        claims = '{"email": "mon@example.com"}'
        gw.execute(call_statement("api.signup", False), (json.dumps({"email": "mon@example.com"}), "{}", claims))
        for day in range(1, 4):
            body = {"mood_today": "hopeful", "confidence_today": 7, "date_submitted": f"2026-11-0{day}"}
            gw.execute(call_statement("api.create_checkin", False), (json.dumps(body), "{}", claims))
        for _ in range(3):
            gw.execute(call_statement("api.list_checkins", False), ("{}", "{}", claims))
    run_sql(db_url, "SELECT public.refresh_user_metrics(false)")
    env = novara_env(DATABASE_URL=db_url)
    r = novara("monitor", "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["events"]["last_hour"] >= 3 and doc["events"]["last_minute"] >= 3, doc["events"]
    daily = doc["metrics_views"]["user_daily_metrics"]
    assert daily["populated"] is True and daily["age_seconds"] < 600 and daily["concurrent"] is False
    top = doc["top_api_functions"]
    assert top["status"] == "ok", top
    calls = {f["function"]: f["calls"] for f in top["by_total_time"]}
    assert calls.get("create_checkin") == 3 and calls.get("list_checkins") == 3, calls
    assert doc["audited_reads_last_day"] == {"records": 0, "readers": 0, "people": 0}
    assert isinstance(doc["wal_archive"]["slots"], list), doc["wal_archive"]
    assert set(doc["wal_archive"]["archiver"]) == {"archived", "failed", "failing", "last_archived_age_seconds"}
    text = novara("monitor", env=env)
    assert text.returncode == 0, text.stderr
    assert "events:" in text.stdout and "user_daily_metrics: refreshed" in text.stdout
    assert "WAL archive: slots:" in text.stdout, text.stdout
    assert re.search(r"^\s+create_checkin\s+3\s", text.stdout, re.MULTILINE), text.stdout


def test_monitor_cannot_connect() -> None:
    r = novara("monitor", env=novara_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    assert r.returncode == 1
    assert "novara monitor:" in r.stdout
