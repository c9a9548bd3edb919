"""`python -m bench` end to end at the tiny size, one-second measurements: the benchmark still works.

Runs on the test's fresh database (--database-url): generator, metrics refresh, `novara serve`, pgbench and
wrk for a read route and the check-in route (fresh user and date per request), JSON and README table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import cli, report, wrk

# `make bench` installs wrk when it can (root, apt); so does this test, and it is skipped only where it cannot.
pytestmark = pytest.mark.skipif(
    wrk.ensure_installed(print) is None, reason="wrk is not installed and cannot be installed here (not root, no apt)"
)


def test_bench_tiny_end_to_end(db_url: str, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n\nintro\n")
    code = cli.main(
        [
            "--size=tiny",
            f"--database-url={db_url}",
            "--duration=1",
            "--routes=timeline,create_checkin",
            "--no-growth",
            f"--results={tmp_path / 'results'}",
            f"--readme={readme}",
        ]
    )
    assert code == 0
    [path] = (tmp_path / "results").glob("*-tiny.json")
    result = json.loads(path.read_text())

    assert result["load"]["checkins"] > 0 and result["load"]["health_events_rows"] > result["load"]["checkins"]
    assert set(result["routes"]) == {"timeline", "create_checkin"}
    for route in result["routes"].values():
        for run in ("direct_1", "direct_n", "gateway", "gateway_half_load"):
            figures = route[run]
            assert figures["requests"] > 0 and figures["errors"] == 0, (route["label"], run, figures)
            assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        # a response is at least its status line and headers; the timeline's body holds the user's events
        assert route["gateway"]["bytes_per_response"] > (1000 if route["label"].startswith("timeline") else 100)
        assert route["direct_n"]["clients"] == route["gateway"]["clients"] == 16
        assert route["ratios"]["throughput"] > 0
        assert route["gateway_half_load"]["errors"] == 0, (route["label"], route["gateway_half_load"])
    assert result["routes"]["timeline"]["statements"]["calls"] > 0  # pg_stat_statements saw the direct calls
    assert result["slowest"]["plans"], "auto_explain gave no plan for the slowest route"
    assert result["versions"]["postgresql"].startswith("PostgreSQL")
    fresh = result["freshness"]  # one simulated day of check-ins, then the guide's refresh statement
    assert fresh["errors"] == 0, fresh["first_error"]
    assert fresh["append_day_ms"] > 0 and fresh["guide_refresh_concurrent_ms"] > 0, fresh
    assert fresh["rollup_rows_filled_by_backfill"] > 0, "the day written without the trigger got its rollups after"

    text = readme.read_text()
    assert text.startswith("# Bench\n\nintro\n")
    assert "| timeline (limit 100) |" in text and "| create check-in |" in text
    assert "| guide's REFRESH ... CONCURRENTLY user_daily_metrics, ms |" in text


def test_compare_puts_two_runs_side_by_side() -> None:
    """The before/after table (python -m bench --compare) takes each figure from its own run."""

    def run(cpu_db: float, throughput: float, size: float) -> dict[str, Any]:
        gateway = {"throughput": throughput, "p99_ms": 9.0, "bytes_per_response": size}
        return {
            "date": "2026-12-07",
            "size": "small",
            "command": "python -m bench",
            "versions": {"git_commit": "abc1234"},
            "load_average": {"before": [0.5, 0.5, 0.5]},
            "routes": {
                "list_checkins": {
                    "label": "list check-ins",
                    "gateway": gateway,
                    "ratios": {"throughput": throughput / 1000},
                    "cpu_ms_per_request": {"gateway": {"database": cpu_db, "gateway": 0.5}},
                }
            },
        }

    lines = report.compare(run(3.5, 400.0, 117_400.0), run(0.5, 1000.0, 60_300.0))
    [row] = [line for line in lines if line.startswith("| list check-ins")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    expected = "list check-ins|4.00|1.00|0.25x|400|1,000|0.40|1.00|9.00|9.00|117,400|60,300"
    assert cells == expected.split("|")
