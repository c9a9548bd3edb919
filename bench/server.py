"""The benchmark's own servers: an embedded PostgreSQL in a throwaway data dir, and `novara serve` on it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.db import AUTHENTICATOR
from novara import DB_DIR, embedded
from novara.background import start_serve
from novara.migrate import migrate

RUN_PREFIX = "novara-bench-"
DBNAME = "novara_bench"


@dataclass
class Database:
    url: str
    pgdata: Path | None  # None when the database is not ours (an URL was given)


@contextlib.contextmanager
def embedded_database(root: Path | None = None) -> Iterator[Database]:
    """A fresh embedded server (default durability settings) with the migrations applied; removed on exit."""
    base = root or embedded.scratch_root()
    embedded.clean_stale_runs(base, RUN_PREFIX)
    run_dir = base / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir(parents=True)
    server = embedded.start(run_dir / "pg", fast=False, delete=True)
    try:
        url = server.ensure_database(DBNAME)
        migrate(url, DB_DIR, log=lambda _line: None)
        yield Database(url, run_dir / "pg")
    finally:
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@dataclass
class Gateway:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path


@contextlib.contextmanager
def gateway(
    database_url: str,
    jwt_secret: str,
    log_dir: Path,
    timeout: float = 60.0,
    profile_to: Path | None = None,
    workers: int = 1,
) -> Iterator[Gateway]:
    """`novara serve --port 0 --workers N` on the database; yields once it prints "Novara API listening on ...".
    profile_to: run it under cProfile, whose stats are written there when it stops."""
    env = {k: v for k, v in os.environ.items() if k not in {"USE_SCHEMA_V2", "HOST", "PORT"}}
    # The gateway logs in as the authenticator (the bench's server trusts local logins); migrations as the owner.
    gateway_url = embedded.with_login(database_url, AUTHENTICATOR)
    env.update({"DATABASE_URL": gateway_url, "MIGRATION_DATABASE_URL": database_url, "JWT_SECRET": jwt_secret})
    log_path = log_dir / ("gateway-profiled.log" if profile_to else "gateway.log")
    proc, base_url = start_serve(
        ["--host", "127.0.0.1", "--port", "0", "--workers", str(workers)],
        env,
        log_path,
        python_args=("-m", "cProfile", "-o", str(profile_to)) if profile_to else (),
        timeout=timeout,
    )
    try:
        yield Gateway(base_url, proc, log_path)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: graceful shutdown (and cProfile writes its stats)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
