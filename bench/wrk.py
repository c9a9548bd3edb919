"""Gateway measurements: wrk over HTTP against `novara serve`, many users' tokens rotated by a Lua script."""

from __future__ import annotations

import calendar
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from gateway import auth

from .pgbench import EMAIL_DOMAIN, Users
from .routes import FIRST_DATE, RouteClass
from .stats import Measurement

LUA = Path(__file__).resolve().parent / "lua" / "rotate.lua"
_RESULT = re.compile(r"^BENCH-JSON (\{.*\})$", re.MULTILINE)


def available() -> str | None:
    """Path of wrk, or None when it is not installed (`apt-get install -y wrk`)."""
    return shutil.which("wrk")


def ensure_installed(log: Callable[[str], None]) -> str | None:
    """wrk's path, installing Debian's package first when it is missing and we may (root, apt-get on PATH); None
    when it is missing and cannot be installed here. Says what it runs."""
    if (binary := available()) is not None:
        return binary
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    for commands in ([install], [["apt-get", "update", "-qq"], install]):  # then again with fresh package lists
        for command in commands:
            log(f"bench: wrk is not installed; running `{' '.join(command)}` (as root)")
            subprocess.run(command, env=env, capture_output=True)
        if available():
            return available()
    return None


def version() -> str:
    binary = available()
    if binary is None:
        return "not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return (out.stdout + out.stderr).splitlines()[0].strip() if (out.stdout + out.stderr) else "unknown"


def write_tokens(path: Path, secret: str, users: Users) -> Path:
    """One signed token per user, in user order (claims: the email, as the gateway's signup issues)."""
    lines = [
        auth.sign(secret, {"email": f"{users.prefix}{k}@{EMAIL_DOMAIN}"})
        for k in range(users.first, users.first + users.count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def warm(base_url: str, *, connections: int, duration: int = 1) -> None:
    """Open the gateway's pool connections before measuring (GET /api/health runs SELECT 1 on the pool)."""
    binary = available()
    if binary is not None:
        subprocess.run(
            [
                binary,
                "--threads=2",
                f"--connections={connections}",
                f"--duration={duration}s",
                base_url + "/api/health",
            ],
            capture_output=True,
            timeout=duration + 30,
        )


def run(
    base_url: str,
    rc: RouteClass,
    tokens_file: Path,
    *,
    connections: int,
    duration: int,
    workdir: Path,
    threads: int = 2,
    per_thread: int = 1,
    first_date: str = FIRST_DATE,
    rate: float | None = None,
) -> Measurement:
    """wrk for `duration` seconds at `connections` connections; errors (non-2xx, socket) are counted. rate: offer
    about this many requests per second (random waits between a connection's requests, rotate.lua) instead of
    as many as the server answers."""
    binary = available()
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    body_file = workdir / f"{rc.key}.body"
    body_file.write_text(rc.http_body())
    mode = "rotate" if rc.writes_checkins else "random"
    first_day = calendar.timegm(date.fromisoformat(first_date).timetuple())
    threads = max(1, min(threads, connections))
    cmd = [
        binary,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={duration}s",
        "--timeout=10s",
        f"--script={LUA}",
        base_url + rc.http_target(),
        "--",
        str(tokens_file),
        rc.method,
        rc.http_target(),
        str(body_file),
        mode,
        str(per_thread),
        str(first_day),
        f"{connections / rate * 1000:.3f}" if rate else "0",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    found = _RESULT.search(proc.stdout)
    if proc.returncode != 0 or found is None:
        raise RuntimeError(
            f"wrk {rc.key} failed (exit {proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
        )
    data = json.loads(found.group(1))
    seconds = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return Measurement(
        tool="wrk",
        clients=connections,
        duration_s=round(seconds, 3),
        requests=data["requests"],
        errors=sum(data["errors"].values()),
        throughput=data["requests"] / seconds if seconds else 0.0,
        p50_ms=lat["p50"] / 1000,
        p99_ms=lat["p99"] / 1000,
        mean_ms=lat["mean"] / 1000,
        max_ms=lat["max"] / 1000,
        bytes_per_response=data["bytes"] / data["requests"] if data["requests"] else None,
    )
