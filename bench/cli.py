"""`python -m bench`: load a data set, measure every route direct and through the gateway, write the results.

Self-contained by default: an embedded PostgreSQL (default durability settings) in a throwaway data dir
under /dev/shm, the migrations, the generated data, `novara serve` on it, pgbench and wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from novara import embedded
from novara import seed as seeding
from novara.seed import SIZES

from . import charts, cpu, gwprofile, machine, measure, profile, report, server, wrk

HERE = Path(__file__).resolve().parent
BYTES_PER_EVENT = 650  # measured on the small size (table, indexes, views), with room to spare
EVENTS_PER_USER_DAY = 2.8
DURATIONS = {"tiny": 1, "small": 4, "medium": 10, "large": 10}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--size", choices=sorted(SIZES), default="small", help="data set size (default small)")
    p.add_argument("--duration", type=int, help="seconds per measurement (default: tiny 1, small 4, else 10)")
    p.add_argument("--growth-duration", type=int, help="seconds per growth measurement (default: half of --duration)")
    p.add_argument("--clients", type=int, default=16, help="pgbench clients and wrk connections (default 16)")
    p.add_argument("--seed", type=int, default=42, help="data generator seed (default 42)")
    p.add_argument(
        "--routes",
        help="comma-separated route classes (default all): " + ", ".join(rc.key for rc in measure.ROUTE_CLASSES),
    )
    p.add_argument("--database-url", help="use this migrated, empty database instead of an embedded server")
    p.add_argument("--data-root", type=Path, help="folder for the embedded data dir (default /dev/shm)")
    p.add_argument("--results", type=Path, default=HERE / "results", help="where the JSON goes")
    p.add_argument("--readme", type=Path, default=HERE / "README.md", help="README whose table is updated")
    p.add_argument("--no-readme", action="store_true", help="do not update the README")
    p.add_argument("--render-only", action="store_true", help="only rewrite the README's tables from --results")
    p.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BEFORE", "AFTER"),
        help="print a before/after table of two result JSON files (measures nothing)",
    )
    p.add_argument("--no-growth", action="store_true", help="skip the growth measurements")
    p.add_argument(
        "--gateway-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn worker processes of novara serve (default: one per core, as novara serve)",
    )
    p.add_argument("--profile-gateway", metavar="ROUTE", help="also profile the gateway (cProfile) on this route")
    return p


def _data_root(args: argparse.Namespace, size: seeding.Size) -> Path:
    root = args.data_root or embedded.scratch_root()
    need = size.users * size.days * EVENTS_PER_USER_DAY * BYTES_PER_EVENT * 1.5
    if args.data_root is None and shutil.disk_usage(root).free < need:
        fallback = Path(tempfile.gettempdir())
        log(f"{root} has less than {need / 2**30:.1f} GiB free: the data dir goes to {fallback}")
        return fallback
    return root


@contextlib.contextmanager
def _database(args: argparse.Namespace, size: seeding.Size) -> Iterator[server.Database]:
    if args.database_url:
        yield server.Database(args.database_url, None)
        return
    root = _data_root(args, size)
    log(f"starting an embedded PostgreSQL under {root} and applying the migrations")
    with server.embedded_database(root) as db:
        yield db


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    size = SIZES[args.size]
    duration = args.duration or DURATIONS[size.name]
    plan = measure.Plan(
        users=size.users,
        duration=duration,
        clients=args.clients,
        growth_duration=args.growth_duration or max(1, duration // 2),
        routes=measure.parse_routes(args.routes),
    )
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    load_before = machine.load_average()
    result: dict[str, Any] = {
        "schema": 1,
        "size": size.name,
        "date": started_at.strftime("%Y-%m-%d"),
        "started_at": started_at.isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(shlex.quote(a) for a in argv)]),
        "machine": machine.machine(),
    }
    secret = secrets.token_hex(32)
    with (
        _database(args, size) as db,
        psycopg.connect(db.url, autocommit=True) as conn,
        tempfile.TemporaryDirectory(prefix="novara-bench-work-") as tmp,
    ):
        workdir = Path(tmp)
        result["versions"] = machine.versions(conn)
        result["settings"] = machine.server_settings(conn)
        result["parameters"] = {
            "users": size.users,
            "days": size.days,
            "checkin_probability": seeding.CHECKIN_PROBABILITY,
            "history_users": seeding.HISTORY_USERS,
            "writers": plan.writers,
            "seed": args.seed,
            "duration_s": duration,
            "growth_duration_s": plan.growth_duration,
            "clients": plan.clients,
            "threads": measure.THREADS,
            "gateway": f"novara serve ({args.gateway_workers} worker(s), uvloop + httptools, DB_POOL_MAX 20 shared)",
            "gateway_workers": args.gateway_workers,
            "pgdata": str(db.pgdata.parent.parent) if db.pgdata else "given database",
        }
        log(f"loading {size.name}: {size.users:,} users x {size.days} days (seed {args.seed})")
        stats = seeding.load(conn, size, seed=args.seed, writers=plan.writers, log=log)
        result["load"] = stats.as_dict()
        result["refresh"] = measure.refresh(conn, log)
        result["freshness"] = measure.freshness(conn, size.users, log)
        result["daily_insight_first_call"] = measure.warm_daily_insights(conn, size.users, log)
        with server.gateway(db.url, secret, workdir, workers=args.gateway_workers) as gw:
            log(f"gateway at {gw.base_url}; measuring {len(plan.routes)} routes, {duration} s each run")
            postmaster = embedded.postmaster_pid(db.pgdata) if db.pgdata else None
            meter = cpu.Meter(postmaster, gw.process.pid)
            ctx = measure.Context(db.url, gw.base_url, secret, workdir, plan, log, meter)
            wrk.warm(gw.base_url, connections=plan.clients)
            result["routes"] = {rc.key: measure.measure_route(ctx, conn, rc) for rc in plan.routes}
        if not args.no_growth:
            result["growth"] = measure.growth(ctx)
        if args.profile_gateway:
            rc = measure.by_key(args.profile_gateway)
            users = plan.writer_blocks["gateway"] if rc.writes_checkins else measure.Users("u", 0, size.users)
            log(f"profiling the gateway on {rc.label}")
            result["gateway_profile"] = gwprofile.profile_gateway(
                db.url, secret, workdir, rc, users, duration=duration, clients=plan.clients
            )
        result["slowest"] = profile.slowest(conn, result["routes"])
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    result["load_average"] = {"before": load_before, "after": machine.load_average()}
    return result


def draw_charts(result: dict[str, Any], path: Path) -> None:
    """The PNG charts next to the JSON (bench/charts.py), when matplotlib (the `bench` extra) is installed."""
    if not charts.available():
        log("charts skipped: matplotlib is not installed (pip install -e '.[bench]'; make bench installs it)")
        return
    for written in charts.draw(result, path):
        log(f"chart: {written}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        print("\n".join(report.compare(before, after)))
        return 0
    if args.render_only:
        latest = report.latest_by_size(args.results)
        for result in latest.values():
            draw_charts(result, report.json_path(result, args.results))
        report.update_readme(args.readme, report.markdown(latest, None, args.results, args.readme.parent))
        print(f"updated {args.readme} from {args.results}")
        return 0
    if wrk.ensure_installed(lambda line: print(line, file=sys.stderr, flush=True)) is None:
        print(
            "bench: wrk is not installed and cannot be installed here (as root: apt-get install -y wrk)",
            file=sys.stderr,
        )
        return 2
    previous = report.latest_by_size(args.results).get(args.size)
    result = run(args, argv)
    if previous:
        result["before"] = report.before(previous, args.results)
    path = report.write_json(result, args.results)
    draw_charts(result, path)
    latest = report.latest_by_size(args.results)
    latest[result["size"]] = result  # also when --results holds a newer run of this size
    if not args.no_readme:
        report.update_readme(args.readme, report.markdown(latest, None, args.results, args.readme.parent))
    print()
    print(report.markdown(latest, only=result["size"]))
    log(f"results: {path}")
    return 0
