"""`novara serve` in the background, for the tools and tests that drive a whole gateway (the benchmark, the
reliability stack, the CLI tests): start it and return once it listens."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

LISTENING = re.compile(r"Novara API listening on (http://[^\s\"]+)")  # a text line, or inside a JSON one


def start_serve(
    serve_args: list[str],
    env: dict[str, str],
    log_path: Path,
    *,
    python_args: tuple[str, ...] = (),
    timeout: float = 60,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `python [python_args] -m novara serve [serve_args]` with its output in log_path (a pipe nobody
    drains would block the server once full); return it and its base URL once it says "Novara API listening
    on ...". RuntimeError with the log's tail when it exits or stays silent for `timeout` seconds."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *python_args, "-m", "novara", "serve", *serve_args],
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while not (found := LISTENING.search(log_path.read_text(errors="replace"))):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"novara serve did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return proc, found.group(1)
