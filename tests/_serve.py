"""`novara serve` as a process, for the tests that run it whole: start it, wait until it listens, and the
environment of a deployment (the gateway as the authenticator, migrations as the owner)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import SECRET, novara_env

ROOT = Path(__file__).resolve().parent.parent


def start_serve(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    """`novara serve --port 0 [extra]`: the process, its base URL, and what it printed until it listened."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "novara.cli", "serve", "--port", "0", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(r"Novara API listening on (http://\S+)", line)
        if m:
            return proc, m.group(1), "".join(seen)
    proc.kill()
    raise AssertionError("serve did not start: " + "".join(seen))


def start(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
    """start_serve without the output: (process, base URL)."""
    proc, base, _output = start_serve(env, *extra)
    return proc, base


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def gateway_env(db_url: str, gateway_url: str, **extra: str) -> dict[str, str]:
    """The environment of a deployment: the gateway logs in as the authenticator, migrations as the owner."""
    return novara_env(DATABASE_URL=gateway_url, MIGRATION_DATABASE_URL=db_url, JWT_SECRET=SECRET, **extra)
