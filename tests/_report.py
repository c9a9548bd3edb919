"""The reliability summary: tests that try to break the system (tests/reliability, tests/isolation) report what they
did, and the run ends with a table of it.

Every such test runs in `make test` at its fast size; `make test-reliability` runs the same tests at full size
(`NOVARA_RELIABILITY=full`: longer loads, more clients, more generated requests) and prints the summary table. A
test reports its figures through the `report` fixture:

    report(requests=1234, failures=0, lost_writes=0, note="16 clients, 5 s")

failures = responses that broke a guarantee (5xx where a 4xx was due, a 500 ever, a wrong body…);
lost_writes = acknowledged (2xx) writes missing afterwards. A test asserts on its own figures; the table
is the record of the run, also written to `.reliability/last-run.json` for docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".reliability" / "last-run.json"
FULL = os.environ.get("NOVARA_RELIABILITY", "fast") == "full"

_rows: list[dict[str, Any]] = []


def scale(fast: float, full: float) -> float:
    """A size for this run: `fast` in make test, `full` in make test-reliability."""
    return full if FULL else fast


Report = Callable[..., None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    """Record this test's figures in the run's summary table (one row per call)."""

    def record(*, requests: int, failures: int = 0, lost_writes: int = 0, note: str = "") -> None:
        _rows.append(
            {
                "test": request.node.nodeid.split("::", 1)[-1],
                "module": request.node.module.__name__.rsplit(".", 1)[-1],
                "requests": requests,
                "failures": failures,
                "lost_writes": lost_writes,
                "note": note,
            }
        )

    return record


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _rows:
        return
    tr = terminalreporter
    tr.section(f"reliability summary ({'full' if FULL else 'fast'} size)")
    widths = (60, 10, 9, 12)
    tr.write_line(
        f"{'test':<{widths[0]}} {'requests':>{widths[1]}} {'failures':>{widths[2]}} {'lost writes':>{widths[3]}}  note"
    )
    for row in _rows:
        tr.write_line(
            f"{row['test'][: widths[0]]:<{widths[0]}} {row['requests']:>{widths[1]},} "
            f"{row['failures']:>{widths[2]}} {row['lost_writes']:>{widths[3]}}  {row['note']}"
        )
    total = {k: sum(r[k] for r in _rows) for k in ("requests", "failures", "lost_writes")}
    tr.write_line(
        f"{'total':<{widths[0]}} {total['requests']:>{widths[1]},} {total['failures']:>{widths[2]}} "
        f"{total['lost_writes']:>{widths[3]}}"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "size": "full" if FULL else "fast",
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "exit_status": int(exitstatus),
                "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                "rows": _rows,
                "total": total,
            },
            indent=2,
        )
        + "\n"
    )
