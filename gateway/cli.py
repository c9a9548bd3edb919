"""`novara`: the command-line tool the Makefile calls.

serve, migrate, db-url, db-stop, psql, token; and the support commands of docs/operations.md:
check-metrics, refresh-metrics, selftest, smoke.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

from . import auth, embedded
from . import settings as settings_mod
from .migrate import MigrationError, Migrator, discover_repeatable, discover_versioned
from .settings import Settings, SettingsError

EMBEDDED_DBNAME = "novara"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"novara: {message}", file=sys.stderr)
    raise SystemExit(code)


@contextlib.contextmanager
def database(cfg: Settings, *, keep_running: bool = False) -> Iterator[str]:
    """The URL of the configured server, or of the embedded one (started, and stopped on exit, here)."""
    if cfg.database_url:
        yield cfg.database_url
        return
    server = embedded.start(cfg.pgdata, keep_running=keep_running)
    try:
        yield server.ensure_database(EMBEDDED_DBNAME)
    finally:
        if not keep_running:
            server.stop()


def run_migrations(url: str, cfg: Settings, *, dry_run: bool = False) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        migrator = Migrator(conn, cfg.db_dir, log=lambda line: print(line, flush=True))
        plan = migrator.run(dry_run=dry_run)
    if dry_run:
        if plan.empty:
            print("nothing to apply: the database is up to date")
        for m in plan.versioned + plan.repeatable:
            print(f"would apply {m.kind} {m.name}")
    elif plan.empty:
        print("migrations: up to date")


def print_status(url: str, cfg: Settings) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        migrator = Migrator(conn, cfg.db_dir)
        applied = migrator.applied()
        plan = migrator.plan()
    pending = {m.name for m in plan.versioned + plan.repeatable}
    print(f"{'kind':<11} {'name':<50} {'state':<9} applied_at")
    for m in discover_versioned(cfg.db_dir) + discover_repeatable(cfg.db_dir):
        at = applied.get(m.name, ("", "", None))[2]
        state = ("changed" if m.name in applied else "pending") if m.name in pending else "applied"
        print(f"{m.kind:<11} {m.name:<50} {state:<9} {at or '-'}")


def cmd_serve(args: argparse.Namespace, cfg: Settings) -> int:
    from .server import serve

    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    secret = settings_mod.ensure_jwt_secret(cfg)
    with database(cfg) as url:
        run_migrations(url, cfg)
        # Ctrl-C: uvicorn shuts down gracefully, then re-raises; the database server stops below.
        with contextlib.suppress(KeyboardInterrupt):
            serve(cfg, url, secret, host=host, port=port, workers=args.workers)
    print("Novara API stopped", flush=True)
    return 0


def cmd_migrate(args: argparse.Namespace, cfg: Settings) -> int:
    with database(cfg) as url:
        if args.status:
            print_status(url, cfg)
        else:
            run_migrations(url, cfg, dry_run=args.dry_run)
    return 0


def cmd_db_url(args: argparse.Namespace, cfg: Settings) -> int:
    with database(cfg, keep_running=True) as url:
        print(url)
    if not cfg.database_url:
        print("(the embedded server keeps running; `novara db-stop` stops it)", file=sys.stderr)
    return 0


def cmd_db_stop(args: argparse.Namespace, cfg: Settings) -> int:
    if cfg.database_url:
        fail("DATABASE_URL is set: that server is not ours to stop")
    if embedded.postmaster_pid(cfg.pgdata) is None:
        print("the embedded server is not running")
        return 0
    embedded.kill_stale(cfg.pgdata)
    print("the embedded server is stopped")
    return 0


def psql_binary() -> str:
    return shutil.which("psql") or str(embedded.bin_dir() / "psql")


def cmd_psql(psql_args: Sequence[str], cfg: Settings) -> int:
    with database(cfg) as url:
        return subprocess.call([psql_binary(), url, *psql_args])


def cmd_token(args: argparse.Namespace, cfg: Settings) -> int:
    email = args.email.strip().lower()
    if "@" not in email:
        fail("--email must be an email address", 2)
    claims: dict[str, object] = {"email": email}
    if args.id:
        claims["id"] = args.id
    print(auth.sign(settings_mod.ensure_jwt_secret(cfg), claims, days=args.days))
    return 0


def cmd_check_metrics(args: argparse.Namespace, cfg: Settings) -> int:
    from .metrics import check_metrics

    with database(cfg) as url:
        return check_metrics(url, sys.stdout)


def cmd_refresh_metrics(args: argparse.Namespace, cfg: Settings) -> int:
    from .metrics import refresh_metrics

    with database(cfg) as url:
        return refresh_metrics(url, sys.stdout)


def cmd_selftest(args: argparse.Namespace, cfg: Settings) -> int:
    from .selftest import selftest

    with database(cfg) as url:
        return selftest(url, sys.stdout, schema_v2_enabled=cfg.use_schema_v2)


def cmd_smoke(args: argparse.Namespace, cfg: Settings) -> int:
    from .smoke import smoke

    return smoke(args.url or f"http://127.0.0.1:{cfg.port}", sys.stdout, timeout=args.timeout)


def http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must start with http:// or https://, got {value!r}")
    return value


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 600 seconds, got {value!r}")
    return seconds


def build_parser() -> Parser:
    parser = Parser(prog="novara", description="Novara Schema V2: run, migrate and inspect.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="apply migrations and serve the HTTP API")
    p.add_argument("--host", help="address to bind (default $HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default $PORT or 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    p = sub.add_parser("migrate", help="apply pending migrations")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--dry-run", action="store_true", help="print what would run, change nothing")
    group.add_argument("--status", action="store_true", help="list applied and pending migrations")

    sub.add_parser("db-url", help="print the database URL (starts the embedded server if needed)")
    sub.add_parser("db-stop", help="stop the embedded server left running by db-url")
    sub.add_parser("psql", help="psql on the database; arguments after `psql` go to psql", add_help=False)

    p = sub.add_parser("token", help="print a valid JWT for a user (for curl examples)")
    p.add_argument("--email", required=True, help="the user's email")
    p.add_argument("--id", help="the user's id (optional; a token with only email is valid)")
    p.add_argument("--days", type=int, default=auth.TOKEN_DAYS, help="validity in days (default 30)")

    sub.add_parser(
        "check-metrics",
        help="report the metrics views: columns, indexes, rows, freshness, a sample row",
        description="Exit 1 when user_daily_metrics or user_weekly_metrics is missing or has no unique index "
        "(REFRESH MATERIALIZED VIEW CONCURRENTLY needs one); 0 otherwise.",
    )
    sub.add_parser(
        "refresh-metrics",
        help="refresh the metrics views (SELECT public.refresh_user_metrics(true))",
        description="Prints each view's duration; exit 1 with the error when the refresh fails.",
    )
    sub.add_parser(
        "selftest",
        help="exercise the api functions as a throwaway user in one transaction, rolled back",
        description="Runs every core api.* function as the gateway would (role novara_api, claims), each in a "
        "savepoint; prints one line per step; exit 1 if any step failed. Leaves nothing in the database.",
    )
    p = sub.add_parser(
        "smoke",
        help="check a running gateway over HTTP (health, status, sign-up, check-in, events, V2 reads)",
        description="Signs up a throwaway user smoke-<random>@novara.invalid (it stays in the database); "
        "prints one line per step with its time; exit 1 if any step failed or the gateway is unreachable.",
    )
    p.add_argument("--url", type=http_url, help="the gateway's base URL (default http://127.0.0.1:$PORT)")
    p.add_argument("--timeout", type=positive_seconds, default=10.0, help="seconds per request (default 10)")
    return parser


PSQL_HELP = """usage: novara psql [psql arguments]

Runs psql on the configured database (DATABASE_URL, or the embedded server, started if needed).
Uses psql from PATH, else the one that ships with the embedded server.
Example: novara psql -c 'select 1'
"""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        cfg = settings_mod.load()
    except SettingsError as err:
        fail(str(err), 2)
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    try:
        if argv[:1] == ["psql"]:
            if argv[1:] == ["--help"]:
                print(PSQL_HELP, end="")
                return 0
            return cmd_psql(argv[1:], cfg)
        args = build_parser().parse_args(argv)
        handler = {
            "serve": cmd_serve,
            "migrate": cmd_migrate,
            "db-url": cmd_db_url,
            "db-stop": cmd_db_stop,
            "token": cmd_token,
            "check-metrics": cmd_check_metrics,
            "refresh-metrics": cmd_refresh_metrics,
            "selftest": cmd_selftest,
            "smoke": cmd_smoke,
        }[args.command]
        return handler(args, cfg)
    except MigrationError as err:
        fail(str(err))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
