"""A real stack for fault tests: an embedded PostgreSQL (default durability) and `novara serve` processes
on it, each of which a test can kill -9 and start again. Loopback only; every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType

import psycopg

from gateway import embedded
from gateway.embedded import EmbeddedServer
from gateway.migrate import migrate
from gateway.settings import DEFAULT_DB_DIR, ROOT

from ..conftest import SECRET

RUN_PREFIX = "novara-reliability-"
DBNAME = "novara"
_LISTENING = re.compile(r"Novara API listening on (http://\S+)")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Stack:
    """`with Stack() as s:` — s.db_url, s.base_url; s.kill_db() / s.start_db(); s.kill_gateway() / s.start_gateway()."""

    def __init__(self, *, gateway_env: dict[str, str] | None = None, use_schema_v2: bool = True) -> None:
        root = embedded.scratch_root()
        embedded.clean_stale_runs(root, RUN_PREFIX)
        self.run_dir = root / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.run_dir.mkdir(parents=True)
        self.pgdata = self.run_dir / "pg"
        self.server: EmbeddedServer | None = None
        self.db_url = ""
        self.base_url = ""
        self.gateway: subprocess.Popen[bytes] | None = None
        self.gateway_env = {"USE_SCHEMA_V2": "true" if use_schema_v2 else "false", **(gateway_env or {})}
        self._port = 0
        self._starts = 0

    # ------------------------------------------------------------------------------------------- database
    def start_db(self) -> None:
        """Start the server (first call: initdb + migrations); after a kill, PostgreSQL's crash recovery runs."""
        if self.server is None:
            self.server = embedded.start(self.pgdata, fast=False, delete=True)
            self.db_url = self.server.ensure_database(DBNAME)
            migrate(self.db_url, DEFAULT_DB_DIR, log=lambda _line: None)
        else:
            embedded.ensure_running(self.server)

    def kill_db(self) -> None:
        """kill -9 the postmaster and every backend: a crash, not a shutdown."""
        pid = embedded.postmaster_pid(self.pgdata)
        assert pid is not None, "the database is not running"
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(v) for v in victims):
            assert time.monotonic() < deadline, "postgres processes survived SIGKILL"
            time.sleep(0.02)

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection (autocommit) for checking what was stored."""
        return psycopg.connect(self.db_url, autocommit=True)

    # -------------------------------------------------------------------------------------------- gateway
    def start_gateway(self, timeout: float = 60.0) -> None:
        """`novara serve` on the database (same port across restarts); returns once it listens."""
        env = {k: v for k, v in os.environ.items() if k not in {"USE_SCHEMA_V2", "HOST", "PORT"}}
        env.update({"DATABASE_URL": self.db_url, "JWT_SECRET": SECRET, "PYTHONUNBUFFERED": "1", **self.gateway_env})
        self._starts += 1
        log_path = self.run_dir / f"gateway-{self._starts}.log"
        with log_path.open("wb") as log:
            self.gateway = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(self._port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not (found := _LISTENING.search(log_path.read_text(errors="replace"))):
            if self.gateway.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"novara serve did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        self.base_url = found.group(1)
        self._port = int(self.base_url.rsplit(":", 1)[1])

    def kill_gateway(self) -> None:
        """kill -9 the gateway process."""
        assert self.gateway is not None
        self.gateway.kill()
        self.gateway.wait(timeout=10)

    def gateway_log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.run_dir.glob("gateway-*.log")))

    # ----------------------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> Stack:
        self.start_db()
        self.start_gateway()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGINT)
            try:
                self.gateway.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
                self.gateway.wait()
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by its parent) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
