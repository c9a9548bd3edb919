"""`make bench-ha`: what replication costs and gives, measured in one run on one replicated cluster.

1. Read throughput: wrk on a read-only route through a gateway reading the primary, through one reading the standby
   (DATABASE_READ_URL), and through both at once (primary + standby serving reads).
2. Write latency: wrk on POST /api/v2/health/events with the standby acknowledging every commit (quorum commit:
   synchronous_standby_names 'ANY 1 (...)') and with asynchronous replication (Patroni's synchronous_mode off),
   at 1 connection (the latency of one commit) and 8 (the latency under concurrency).

On this machine every server, gateway and wrk share 2 cores: a standby adds no CPU here, so the read ratio says what
the routing costs or gives on one box; on separate machines the standby brings its own. The figures go to stdout
and bench/results/ha-<size>.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from novara import cluster as cluster_mod
from novara import embedded
from novara.background import start_serve

from . import wrk
from .pgbench import EMAIL_DOMAIN, Users
from .routes import RouteClass
from .stats import Measurement, ratio

SECRET = "bench-ha-secret-" + "x" * 40
PREFIX = "ha"
READS = {
    "timeline": RouteClass("timeline", "timeline (limit 100)", "GET", "/api/v2/health/timeline", {"limit": "100"}),
    "export": RouteClass("export", "export (the caller's whole history)", "GET", "/api/users/me/export"),
    "me": RouteClass("me", "me (the profile)", "GET", "/api/users/me"),
}
WRITE = RouteClass(
    "create_event",
    "create event",
    "POST",
    "/api/v2/health/events",
    {"event_type": "mood", "event_data": {"mood": "calm", "confidence": 7}},
)
RESULTS = Path(__file__).resolve().parent / "results"


def _gateway(cluster: cluster_mod.Cluster, read_url: str | None, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_READ_URL", "MIGRATION_DATABASE_URL"}}
    env.update({"DATABASE_URL": cluster.gateway_url(), "JWT_SECRET": SECRET, "DB_POOL_MAX": "16"})
    if read_url:
        env["DATABASE_READ_URL"] = read_url
    return start_serve(["--host", "127.0.0.1", "--port", "0", "--workers", "1"], env, log)


def _seed(base_url: str, users: int, events: int) -> None:
    """`users` accounts (ha<k>@bench.invalid), each with `events` events, over HTTP."""

    def one(k: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            r = http.post("/api/auth/signup", json={"email": f"{PREFIX}{k}@{EMAIL_DOMAIN}"})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            for i in range(events):
                body = {"event_type": "mood", "event_data": {"mood": "calm", "confidence": 1 + i % 10}}
                http.post("/api/v2/health/events", json=body, headers=headers).raise_for_status()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(users)))


def _wrk(url: str, rc: RouteClass, tokens: Path, connections: int, duration: int, work: Path) -> Measurement:
    return wrk.run(url, rc, tokens, connections=connections, duration=duration, workdir=work)


def _sync_mode(cluster: cluster_mod.Cluster, mode: str) -> str:
    """Patroni's synchronous_mode (quorum | off), then wait until the primary runs with it; returns
    synchronous_standby_names."""
    cluster.patronictl("edit-config", "--force", "-s", f"synchronous_mode={mode}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
            row = conn.execute("SHOW synchronous_standby_names").fetchone()
        names = str(row[0]) if row else ""
        if bool(names) == (mode != "off"):
            return names
        time.sleep(0.2)
    raise RuntimeError(f"synchronous_mode={mode} was not applied within 60 s")


def run(duration: int, connections: int, users: int, events: int, route: str, log: Any = print) -> dict[str, Any]:
    read = READS[route]
    if wrk.ensure_installed(log) is None:
        raise SystemExit("bench-ha: wrk is not installed (apt-get install -y wrk)")
    root = Path(tempfile.mkdtemp(prefix="novara-bench-ha-", dir=embedded.scratch_root()))
    work = root / "work"
    work.mkdir()
    cluster = cluster_mod.up(root / "cluster", standbys=1, say=log)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        leader = cluster.leader()
        standby = next(n for n in cluster.nodes if n.name != leader)
        standby_url = cluster.read_url().replace(cluster.hosts(), f"127.0.0.1:{standby.pg_port}")
        primary_gw, primary_url = _gateway(cluster, None, root / "gateway-primary.log")
        standby_gw, standby_gw_url = _gateway(cluster, standby_url, root / "gateway-standby.log")
        procs += [primary_gw, standby_gw]
        log(f"bench-ha: seeding {users} users x {events} events")
        _seed(primary_url, users, events)
        tokens = wrk.write_tokens(work / "tokens", SECRET, Users(PREFIX, 0, users))
        with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
            reader = read.route.reader
            stable = "SELECT provolatile IN ('s', 'i') FROM pg_proc WHERE oid = to_regproc(%s)"
            read_only = read.read_only(conn) or bool(reader and (conn.execute(stable, (reader,)).fetchone() or [0])[0])
        if not read_only:
            log(f"bench-ha: {read.label} is not STABLE: the gateway runs it on the primary, so both runs read it")
        for url in (primary_url, standby_gw_url):
            wrk.warm(url, connections=connections)
        out: dict[str, Any] = {"route": read.label, "read_only": read_only, "connections": connections}

        log(f"bench-ha: reads, {duration} s each: primary, standby, both at once")
        on_primary = _wrk(primary_url, read, tokens, connections, duration, work)
        on_standby = _wrk(standby_gw_url, read, tokens, connections, duration, work)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            both = list(
                pool.map(
                    lambda url: _wrk(url, read, tokens, connections // 2, duration, work),
                    (primary_url, standby_gw_url),
                )
            )
        both_rps = sum(m.throughput for m in both)
        out["reads"] = {
            "primary_only": on_primary.as_dict(),
            "standby_only": on_standby.as_dict(),
            "primary_and_standby": {"throughput": round(both_rps, 1), "parts": [m.as_dict() for m in both]},
            "ratio_standby_vs_primary": ratio(on_standby.throughput, on_primary.throughput),
            "ratio_primary_and_standby_vs_primary": ratio(both_rps, on_primary.throughput),
        }

        writes: dict[str, Any] = {}
        for mode in ("quorum", "off"):
            names = _sync_mode(cluster, mode)
            log(f"bench-ha: writes with synchronous_mode={mode} (synchronous_standby_names '{names}')")
            writes[mode] = {
                "synchronous_standby_names": names,
                "c1": _wrk(primary_url, WRITE, tokens, 1, duration, work).as_dict(),
                f"c{connections}": _wrk(primary_url, WRITE, tokens, connections, duration, work).as_dict(),
            }
        _sync_mode(cluster, "quorum")
        for c in ("c1", f"c{connections}"):
            sync, async_ = writes["quorum"][c], writes["off"][c]
            writes[f"ratio_sync_vs_async_{c}"] = {
                "p50": ratio(sync["p50_ms"], async_["p50_ms"]),
                "p99": ratio(sync["p99_ms"], async_["p99_ms"]),
                "throughput": ratio(sync["throughput"], async_["throughput"]),
            }
        out["writes"] = writes
        return out
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        cluster_mod.down(root / "cluster", purge=True, say=lambda _line: None)
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ha", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--users", type=int, default=64, help="accounts (default 64)")
    parser.add_argument("--events", type=int, default=20, help="events per account (default 20)")
    parser.add_argument("--route", choices=sorted(READS), default="timeline", help="the read route (default timeline)")
    args = parser.parse_args()
    out = run(args.duration, args.connections, args.users, args.events, args.route)
    out["run_id"] = uuid.uuid4().hex[:8]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "ha.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
