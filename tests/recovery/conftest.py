"""The recovery drill's summary: one table per drill run (`make test-recovery`), also written to
.recovery/last-run.json for docs/operations.md."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".recovery" / "last-run.json"

rows: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not rows:
        return
    tr = terminalreporter
    tr.section("recovery drill")
    for row in rows:
        width = max(len(k) for k in row)
        for key, value in row.items():
            tr.write_line(f"{key:<{width}}  {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "exit_status": int(exitstatus),
                "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                "runs": rows,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
