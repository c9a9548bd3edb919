"""`novara`: the command-line tool the Makefile calls.

serve, migrate, db-url, db-stop, psql, token; the support commands of docs/operations.md: check-metrics,
refresh-metrics, monitor, selftest, smoke, api-docs; backup setup|now|list|check and restore (Barman:
novara/backup.py); cluster up|status|down|ctl (Patroni and etcd: novara/cluster.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from gateway import auth, logs
from gateway import settings as settings_mod
from gateway.db import AUTHENTICATOR, GATEWAY_ROLE
from gateway.settings import Settings, SettingsError

from . import DB_DIR, embedded
from . import backup as backup_mod
from .logins import Login, inspect_login
from .migrate import MigrationError, Migrator, discover_repeatable, discover_versioned

EMBEDDED_DBNAME = "novara"


def db_dir(cfg: Settings) -> Path:
    return cfg.db_dir or DB_DIR


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"novara: {message}", file=sys.stderr)
    raise SystemExit(code)


@contextlib.contextmanager
def database(cfg: Settings, *, keep_running: bool = False) -> Iterator[str]:
    """The owner's URL (MIGRATION_DATABASE_URL, else DATABASE_URL), or the embedded server's superuser URL (the
    server started, and stopped on exit, here): what migrations and the operator commands use."""
    with _server(cfg, keep_running=keep_running) as server:
        yield owner_url(cfg, server)


def owner_url(cfg: Settings, server: embedded.EmbeddedServer | None) -> str:
    url = cfg.owner_url if server is None else server.ensure_database(EMBEDDED_DBNAME)
    assert url is not None  # DATABASE_URL is set whenever there is no embedded server
    return url


@contextlib.contextmanager
def _server(cfg: Settings, *, keep_running: bool = False) -> Iterator[embedded.EmbeddedServer | None]:
    if cfg.database_url:
        yield None
        return
    server = embedded.start(cfg.pgdata, keep_running=keep_running)
    try:
        yield server
    finally:
        if not keep_running:
            server.stop()


def authenticator_url(cfg: Settings, server: embedded.EmbeddedServer, owner_url: str) -> str:
    """On the embedded server: the authenticator, with the password kept in the data dir (set on every start, and
    required on the socket by pg_hba.conf)."""
    password = settings_mod.ensure_secret_file(cfg.authenticator_password_file)
    server.require_password(AUTHENTICATOR, password)
    return embedded.with_login(owner_url, AUTHENTICATOR, password)


def refuse_powerful(cfg: Settings, login: Login, *, warn: bool = True) -> list[str]:
    """Refuse (one line naming the role and the fix, exit 1) a gateway login that is a superuser, BYPASSRLS or able
    to become an owner of the schema, unless NOVARA_ALLOW_POWERFUL_LOGIN is set: then warn (once per start) and
    return its powers."""
    if login.powers:
        why = "; ".join(login.powers)
        if not cfg.allow_powerful_login:
            fail(
                f"refusing to serve as {login.role}: {why}. Set DATABASE_URL to the {AUTHENTICATOR} login and "
                f"MIGRATION_DATABASE_URL to the owner's (docs/roles.md), or NOVARA_ALLOW_POWERFUL_LOGIN=true"
            )
        if warn:
            logs.say(
                f"⚠️  serving as {login.role}, which should not serve requests: {why} (NOVARA_ALLOW_POWERFUL_LOGIN)"
            )
    return login.powers


def require_serving(login: Login) -> None:
    if not login.can_serve:
        fail(f"the gateway's login {login.role} cannot SET ROLE {GATEWAY_ROLE}: GRANT {GATEWAY_ROLE} TO {login.role}")


def require_up_to_date(url: str, cfg: Settings) -> None:
    """A gateway login that cannot migrate checks, as the gateway role, that no migration is pending."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET ROLE {GATEWAY_ROLE}")  # type: ignore[arg-type]  # a constant name
        plan = Migrator(conn, db_dir(cfg)).plan()
    pending = [m.name for m in plan.versioned + plan.repeatable]
    if pending:
        fail(
            f"{len(pending)} migration(s) pending ({', '.join(pending[:3])}{', …' if len(pending) > 3 else ''}): run "
            "`novara migrate` as the owner first, or set MIGRATION_DATABASE_URL to the owner's URL (docs/roles.md)"
        )


def run_migrations(url: str, cfg: Settings, *, dry_run: bool = False, say: Callable[[str], None] = print) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        migrator = Migrator(conn, db_dir(cfg), log=say)
        plan = migrator.run(dry_run=dry_run)
        if cfg.authenticator_password and not dry_run:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(AUTHENTICATOR), sql.Literal(cfg.authenticator_password)
                )
            )
            say(f"{AUTHENTICATOR}: password set (NOVARA_AUTHENTICATOR_PASSWORD)")
    if dry_run:
        if plan.empty:
            print("nothing to apply: the database is up to date")
        for m in plan.versioned + plan.repeatable:
            print(f"would apply {m.kind} {m.name}")
        for name in plan.forgotten:
            print(f"would forget repeatable {name} (its file is gone)")
    elif plan.empty:
        say("migrations: up to date")


def import_v1_writes(url: str, say: Callable[[str], None] = print) -> int:
    """The flag turned on: every check-in write of V1 mode not yet in the event log is imported, as the owner (the
    import names each user in turn; docs/v1-v2-sync.md). The V2 functions import a user's pending writes themselves
    before they write or read the log, so this keeps the log complete for everyone else who reads it (analysts, the
    metrics views). One transaction per batch; with nothing pending, one cheap query. Returns how many it imported."""
    import psycopg

    total = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while n := int(conn.execute("SELECT core.sync_legacy_checkins(NULL, 1000)").fetchone()[0]):  # type: ignore[index]
            total += n
    if total:
        say(f"Schema V2: imported {total} check-in write(s) of V1 mode into the event log")
    return total


def print_status(url: str, cfg: Settings) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        migrator = Migrator(conn, db_dir(cfg))
        applied = migrator.applied()
        plan = migrator.plan()
    pending = {m.name for m in plan.versioned + plan.repeatable}
    print(f"{'kind':<11} {'name':<50} {'state':<9} applied_at")
    for m in discover_versioned(db_dir(cfg)) + discover_repeatable(db_dir(cfg)):
        at = applied.get(m.name, ("", "", None))[2]
        state = ("changed" if m.name in applied else "pending") if m.name in pending else "applied"
        print(f"{m.kind:<11} {m.name:<50} {state:<9} {at or '-'}")
    for name in plan.forgotten:  # recorded, but the file is gone: the next run forgets it
        print(f"{'repeatable':<11} {name:<50} {'gone':<9} {applied[name][2] or '-'}")


def cmd_serve(args: argparse.Namespace, cfg: Settings) -> int:
    from gateway.server import serve

    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    secret = settings_mod.ensure_jwt_secret(cfg)
    logs.configure(cfg.log_format)  # LOG_FORMAT=json: every line of `serve` is a JSON object, from here on
    with _server(cfg) as server:
        warned = False
        owner: str | None = None  # the login that migrates (and, in V2 mode, imports V1-mode writes), if we hold it
        if server is not None:  # make run: migrate as the embedded server's superuser, serve as the authenticator
            owner = owner_url(cfg, server)
            run_migrations(owner, cfg, say=logs.say)
            url = authenticator_url(cfg, server, owner)
        else:
            url = cfg.database_url or ""
            if cfg.migration_database_url:  # the owner migrates; the gateway's login is checked below
                owner = cfg.migration_database_url
                run_migrations(owner, cfg, say=logs.say)
            elif warned := bool(refuse_powerful(cfg, inspect_login(url))):
                # allowed by the override: a login that owns the schema migrates it
                owner = url
                run_migrations(url, cfg, say=logs.say)
            else:  # a login with no power cannot migrate: it checks that nothing is pending
                require_serving(inspect_login(url))
                require_up_to_date(url, cfg)
        if owner and cfg.use_schema_v2:
            import_v1_writes(owner, say=logs.say)
        login = inspect_login(url)
        refuse_powerful(cfg, login, warn=not warned)
        require_serving(login)
        if cfg.database_read_url:  # the standbys' login is held to the same rules
            read_login = inspect_login(cfg.database_read_url)
            refuse_powerful(cfg, read_login, warn=read_login.role != login.role)
            require_serving(read_login)
        # Ctrl-C: uvicorn shuts down gracefully, then re-raises; the database server stops below.
        with contextlib.suppress(KeyboardInterrupt):
            serve(cfg, url, secret, host=host, port=port, workers=args.workers)
    logs.say("Novara API stopped")
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
    from .metric_views import check_metrics

    with database(cfg) as url:
        return check_metrics(url, sys.stdout)


def cmd_refresh_metrics(args: argparse.Namespace, cfg: Settings) -> int:
    from .metric_views import refresh_metrics

    with database(cfg) as url:
        return refresh_metrics(url, sys.stdout)


def cmd_monitor(args: argparse.Namespace, cfg: Settings) -> int:
    from .monitor import monitor

    with database(cfg) as url:
        return monitor(url, sys.stdout, as_json=args.json)


def cmd_selftest(args: argparse.Namespace, cfg: Settings) -> int:
    from .selftest import selftest

    with database(cfg) as url:
        return selftest(url, sys.stdout, schema_v2_enabled=cfg.use_schema_v2)


def cmd_api_docs(args: argparse.Namespace, cfg: Settings) -> int:
    from .apidocs import load_catalog, markdown

    with database(cfg) as url:
        text = markdown(load_catalog(url))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            fail(f"{args.output} is not what the code and the database say now: run `novara api-docs`")
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


def cmd_smoke(args: argparse.Namespace, cfg: Settings) -> int:
    from .smoke import smoke

    return smoke(args.url or f"http://127.0.0.1:{cfg.port}", sys.stdout, timeout=args.timeout)


def _backup_repo(args: argparse.Namespace, cfg: Settings) -> backup_mod.Repo:
    return backup_mod.Repo((args.repo or backup_mod.default_repo(cfg.data_dir)).expanduser().resolve())


def cmd_backup(args: argparse.Namespace, cfg: Settings) -> int:
    repo = _backup_repo(args, cfg)
    try:
        if args.action == "list":
            return backup_mod.list_backups(repo, sys.stdout)
        if args.action != "setup":
            repo.require()  # before starting any server
        with database(cfg) as url:
            if args.action == "setup":
                return backup_mod.setup(
                    repo,
                    url,
                    retention_days=args.retention_days,
                    data_dir=None if cfg.database_url else cfg.data_dir,
                    out=sys.stdout,
                )
            if args.action == "now":
                return backup_mod.now(repo, sys.stdout)
            if args.quick:
                return backup_mod.check_quick(repo, url, sys.stdout)
            # A full copy of the database: on disk (the temp dir), not in memory, unless told otherwise.
            scratch = args.scratch or Path(tempfile.gettempdir())
            return backup_mod.check(repo, url, scratch, keep=args.keep, out=sys.stdout)
    except (backup_mod.BackupError, RuntimeError) as err:
        fail(str(err))


def cmd_restore(args: argparse.Namespace, cfg: Settings) -> int:
    repo = _backup_repo(args, cfg)
    stamp = args.to.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    target_dir = args.target_dir or cfg.data_dir.parent / f"{cfg.data_dir.name}-restored-{stamp}"
    target_dir = target_dir.expanduser().resolve()
    if target_dir.exists() and any(target_dir.iterdir()):
        fail(f"{target_dir} exists and is not empty: a restore never overwrites (choose --target-dir)", 2)
    try:
        repo.require()
    except backup_mod.BackupError as err:
        fail(str(err))
    print(f"restoring to {args.to.isoformat()} into {target_dir}", flush=True)
    try:
        restored = backup_mod.restore(
            repo, target_dir, args.to, secrets_from=None if cfg.database_url else cfg.data_dir, out=sys.stdout
        )
    except (backup_mod.BackupError, RuntimeError) as err:
        fail(f"{err}\n(what was restored so far is in {target_dir})")
    print(f"restored from backup {restored.backup.backup_id}. Serve it with:", flush=True)
    print(f"  NOVARA_DATA_DIR={shlex.quote(str(target_dir))} novara serve", flush=True)
    return 0


def restore_target(value: str) -> dt.datetime:
    try:
        return backup_mod.parse_target(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def retention_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, got {value!r}") from None
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"must be between 1 and 3650 days, got {value!r}")
    return days


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
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per core, here %(default)s); DB_POOL_MAX is shared among them",
    )

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
    p = sub.add_parser(
        "monitor",
        help="the guide's monitoring in one place: events per minute, metrics freshness, top api functions",
        description="Reads core.monitoring() as the owner: events recorded in the last minute/5 minutes/hour, each "
        "metrics view's last refresh, the api.* functions with the most total time in pg_stat_statements (where "
        "loaded), the gateway's connections, the audit's reads of the last day. Exit 1 if the database cannot be read.",
    )
    p.add_argument("--json", action="store_true", help="print the document core.monitoring() returns")
    sub.add_parser(
        "selftest",
        help="exercise the api functions as a throwaway user in one transaction, rolled back",
        description="Runs every core api.* function as the gateway would (role novara_api, claims), each in a "
        "savepoint; prints one line per step; exit 1 if any step failed. Leaves nothing in the database.",
    )
    p = sub.add_parser(
        "api-docs",
        help="write docs/api.md from the route table, the functions' COMMENTs and the registries",
        description="Generates the HTTP API reference from what serves it (the same document as /openapi.json).",
    )
    p.add_argument("--output", type=Path, default=Path("docs/api.md"), help="the file (default docs/api.md)")
    p.add_argument("--check", action="store_true", help="exit 1 if the file differs from what would be written")
    p = sub.add_parser(
        "smoke",
        help="check a running gateway over HTTP (health, status, sign-up, check-in, events, V2 reads)",
        description="Signs up a throwaway user smoke-<random>@novara.invalid (it stays in the database); "
        "prints one line per step with its time; exit 1 if any step failed or the gateway is unreachable.",
    )
    p.add_argument("--url", type=http_url, help="the gateway's base URL (default http://127.0.0.1:$PORT)")
    p.add_argument("--timeout", type=positive_seconds, default=10.0, help="seconds per request (default 10)")
    add_backup_parsers(sub)
    add_cluster_parsers(sub)
    return parser


def add_cluster_parsers(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "cluster",
        help="a replicated cluster on this machine (Patroni, etcd, streaming replication): up, status, env, down, ctl",
        description="A primary and hot standbys from the embedded server's binaries, managed by Patroni with etcd "
        "as its store, each node with its own data dir and ports on 127.0.0.1 (docs/operations.md, 'Replication "
        "and failover'). `up` prints the URLs to serve with.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    help_dir = "the cluster's folder (default $NOVARA_CLUSTER_DIR, else $NOVARA_DATA_DIR/cluster)"
    a = actions.add_parser("up", help="start the cluster (created, migrated and its passwords set the first time)")
    a.add_argument("--dir", type=Path, help=help_dir)
    a.add_argument("--standbys", type=int, choices=(1, 2), default=2, help="hot standbys (default 2)")
    a = actions.add_parser("status", help="each node's role, state, timeline and lag; the URLs to serve with")
    a.add_argument("--dir", type=Path, help=help_dir)
    a = actions.add_parser("env", help='the URLs as shell export lines: eval "$(novara cluster env)"')
    a.add_argument("--dir", type=Path, help=help_dir)
    a = actions.add_parser("down", help="stop every node (fast shutdown) and etcd")
    a.add_argument("--dir", type=Path, help=help_dir)
    a.add_argument("--purge", action="store_true", help="also remove the cluster's folder (its data)")
    a = actions.add_parser(
        "ctl",
        help="patronictl on the cluster, e.g. `novara cluster ctl -- switchover --candidate pg2 --force`",
        add_help=False,
    )
    a.add_argument("--dir", type=Path, help=help_dir)
    a.add_argument("args", nargs=argparse.REMAINDER)


REPO_HELP = "the backup repository (default $NOVARA_BACKUP_DIR, else $NOVARA_DATA_DIR/backup)"


def add_backup_parsers(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "backup",
        help="continuous archiving with Barman: setup, now, list, check",
        description="Base backups and a continuous WAL stream with Barman (pg_basebackup, pg_receivewal through a "
        "replication slot), for point-in-time recovery with `novara restore`. Each action prints the barman "
        "commands it runs. The server: MIGRATION_DATABASE_URL, else DATABASE_URL, else the embedded one.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser(
        "setup",
        help="configure Barman for the server, start the WAL stream, take a first base backup",
        description="Writes <repo>/barman.conf (streaming-only: no archive_command, no SSH), runs `barman cron` "
        "(replication slot, pg_receivewal), archives a first WAL segment, takes a first base backup, runs "
        "`barman check` and prints the crontab lines to install. Exit 1 if the check fails.",
    )
    a.add_argument("--repo", type=Path, help=REPO_HELP)
    a.add_argument(
        "--retention-days",
        type=retention_days,
        default=backup_mod.DEFAULT_RETENTION_DAYS,
        help=f"recovery window kept by `barman cron` (default {backup_mod.DEFAULT_RETENTION_DAYS})",
    )
    a = actions.add_parser("now", help="take a base backup now (barman backup --wait)")
    a.add_argument("--repo", type=Path, help=REPO_HELP)
    a = actions.add_parser("list", help="list the backups and the earliest instant that can be restored")
    a.add_argument("--repo", type=Path, help=REPO_HELP)
    a = actions.add_parser(
        "check",
        help="verify the backups: barman check, the stream's lag, and a test restore with selftest and row counts",
        description="barman check and the WAL stream's lag; then (unless --quick) restores the latest backup and "
        "all the WAL after it into a scratch dir, runs the selftest on the copy and compares its row counts with "
        "the source's. Exit 0 when everything passed, 1 otherwise: schedule it and alert on 1.",
    )
    a.add_argument("--repo", type=Path, help=REPO_HELP)
    a.add_argument("--quick", action="store_true", help="only barman check and the stream's lag (no restore)")
    a.add_argument("--scratch", type=Path, help="where the test restore goes (default: the temp dir, $TMPDIR)")
    a.add_argument("--keep", action="store_true", help="keep the test restore instead of removing it")

    p = sub.add_parser(
        "restore",
        help="restore the backups to an instant into a new data dir (point-in-time recovery)",
        description="Restores the newest base backup that ended before --to, replays the archived and streamed WAL "
        "up to that instant on a server started here, and stops it once it has promoted itself. The result is a "
        "new NOVARA_DATA_DIR (data in pg/, the secrets of $NOVARA_DATA_DIR copied), never the running one.",
    )
    p.add_argument(
        "--to",
        required=True,
        type=restore_target,
        help="the instant, ISO 8601 ('2026-12-07 14:03:00+00'; no offset: UTC): transactions committed after it "
        "are not restored",
    )
    p.add_argument("--target-dir", type=Path, help="a new or empty directory (default $NOVARA_DATA_DIR-restored-<to>)")
    p.add_argument("--repo", type=Path, help=REPO_HELP)


def cmd_cluster(args: argparse.Namespace, cfg: Settings) -> int:
    from . import cluster

    root = args.dir or Path(os.environ.get("NOVARA_CLUSTER_DIR") or cfg.data_dir / "cluster")
    try:
        if args.action == "up":
            cluster.up(root, standbys=args.standbys)
            print(cluster.status(root))
        elif args.action in ("status", "env"):
            if not (root.expanduser().resolve() / cluster.STATE_FILE).exists():
                fail(f"no cluster in {root}: `novara cluster up` starts one")
            print(cluster.status(root) if args.action == "status" else cluster.environment(root))
        elif args.action == "down":
            cluster.down(root, purge=args.purge)
        else:
            ctl_args = args.args[1:] if args.args[:1] == ["--"] else args.args
            done = cluster.Cluster.load(root.expanduser().resolve()).patronictl(*ctl_args, check=False)
            print(done.stdout, end="")
            print(done.stderr, end="", file=sys.stderr)
            return done.returncode
    except cluster.ClusterError as err:
        fail(str(err))
    return 0


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
            "monitor": cmd_monitor,
            "smoke": cmd_smoke,
            "api-docs": cmd_api_docs,
            "backup": cmd_backup,
            "restore": cmd_restore,
            "cluster": cmd_cluster,
        }[args.command]
        return handler(args, cfg)
    except MigrationError as err:
        fail(str(err))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
