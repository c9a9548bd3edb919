"""`novara serve` as a process, for the tests that run it whole (novara.background starts it and waits until it
listens), and the environment of a deployment (the gateway as the authenticator, migrations as the owner)."""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from novara.background import start_serve as start_in_background
from tests.conftest import SECRET, novara_env

_LOGS = Path(tempfile.mkdtemp(prefix="novara-test-serve-"))
atexit.register(shutil.rmtree, _LOGS, ignore_errors=True)


def start_serve(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`novara serve --port 0 [extra]`: the process, its base URL, and the file its output goes to."""
    log = Path(tempfile.mkstemp(dir=_LOGS, suffix=".log")[1])
    try:
        proc, base = start_in_background(["--port", "0", *extra], env, log)
    except RuntimeError as err:
        raise AssertionError(str(err)) from None
    return proc, base, log


def start(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """start_serve without the output: (process, base URL)."""
    proc, base, _log = start_serve(env, *extra)
    return proc, base


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def gateway_env(db_url: str, gateway_url: str, **extra: str) -> dict[str, str]:
    """The environment of a deployment: the gateway logs in as the authenticator, migrations as the owner."""
    return novara_env(DATABASE_URL=gateway_url, MIGRATION_DATABASE_URL=db_url, JWT_SECRET=SECRET, **extra)
