"""Direct measurements: pgbench (the embedded server's own binary) running what the gateway sends.

The script is the gateway's transaction, sent in one round trip like the gateway's pipeline:
    BEGIN [READ ONLY]; SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', …, true);
    SELECT api.<function>('<args>'::jsonb); COMMIT;
for a user drawn at random (\\set k random(…)), or, for check-ins, a fresh (writer, date) per transaction:
each client counts its transactions in :i (pgbench variables persist across a client's transactions).
Latency percentiles come from pgbench's per-transaction log (-l).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from novara import embedded

from .routes import DATE_PLACEHOLDER, FIRST_DATE, RouteClass
from .stats import Measurement, percentile

EMAIL_DOMAIN = "bench.invalid"


@dataclass(frozen=True)
class Users:
    """Whom the requests act as: emails prefix<k>@bench.invalid for k in [first, first + count)."""

    prefix: str
    first: int
    count: int
    per_client: int = 0  # check-in writers: users owned by each client (client c owns a block of them)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def script(rc: RouteClass, users: Users, *, read_only: bool) -> str:
    """The pgbench script for one route class; read_only: as the gateway runs the function (RouteClass.read_only)."""
    lines = [f"-- {rc.label}: {rc.function}, as the gateway calls it"]
    if rc.writes_checkins:
        lines += [
            f"\\set k {users.first} + :client_id * {users.per_client} + :i % {users.per_client}",
            f"\\set d :i / {users.per_client}",
            "\\set i :i + 1",
        ]
    elif users.count == 1:
        lines.append(f"\\set k {users.first}")
    else:
        lines.append(f"\\set k random({users.first}, {users.first + users.count - 1})")
    claims = f"""'{{"email":"{users.prefix}' || :k || '@{EMAIL_DOMAIN}"}}'"""
    args = _sql_literal(rc.call_args())
    if rc.writes_checkins:
        before, after = rc.call_args().split(DATE_PLACEHOLDER)
        args = (
            f"({_sql_literal(before)} || to_char(DATE '{FIRST_DATE}' + :d::integer, 'YYYY-MM-DD') || "
            f"{_sql_literal(after)})"
        )
    lines += [
        "\\startpipeline",
        "BEGIN READ ONLY;" if read_only else "BEGIN;",
        f"SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', {claims}, true);",
        f"SELECT {rc.function}({args}::jsonb);",
        "COMMIT;",
        "\\endpipeline",
    ]
    return "\n".join(lines) + "\n"


_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


def run(
    url: str, script_text: str, *, clients: int, duration: float, workdir: Path, name: str, threads: int = 2
) -> Measurement:
    """Run pgbench for `duration` seconds; raise when a client aborted (a failing statement)."""
    workdir.mkdir(parents=True, exist_ok=True)
    script_path = workdir / f"{name}.sql"
    script_path.write_text(script_text)
    log_prefix = workdir / f"{name}.log"
    for old in workdir.glob(f"{log_prefix.name}.*"):
        old.unlink()
    cmd = [
        str(embedded.bin_dir() / "pgbench"),
        "--no-vacuum",
        "--protocol=prepared",
        f"--file={script_path}",
        f"--client={clients}",
        f"--jobs={max(1, min(threads, clients))}",
        f"--time={max(1, round(duration))}",
        "--define=i=0",
        "--log",
        f"--log-prefix={log_prefix}",
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, cwd=workdir)
    tps = _TPS.search(proc.stdout)
    if proc.returncode != 0 or tps is None or "aborted" in proc.stderr:
        raise RuntimeError(
            f"pgbench {name} failed (exit {proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}"
        )
    failed = _FAILED.search(proc.stdout)
    latencies: list[float] = []
    for log in workdir.glob(f"{log_prefix.name}.*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                latencies.append(int(parts[2]) / 1000.0)
    latencies.sort()
    return Measurement(
        tool="pgbench",
        clients=clients,
        duration_s=float(max(1, round(duration))),
        requests=len(latencies),
        errors=int(failed.group(1)) if failed else 0,
        throughput=float(tps.group(1)),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        mean_ms=sum(latencies) / len(latencies) if latencies else 0.0,
        max_ms=latencies[-1] if latencies else 0.0,
    )
