"""Continuous archiving and point-in-time recovery with Barman (`novara backup …`, `novara restore`).

Barman does the work: base backups with pg_basebackup, WAL streamed without pause by pg_receivewal through a
replication slot, retention, and the restore to a chosen instant. These functions only write its configuration
and run it, printing every command before running it, so an operator can run the same by hand
(docs/operations.md, "Back up and restore").

One Barman server, `novara`, per repository directory; the configuration is `<repo>/barman.conf`. Barman runs as
the user that runs `novara`: as root, root (the PostgreSQL client tools it runs, pg_basebackup and
pg_receivewal, work as root; only the server refuses to), and a restored data dir is handed to the embedded
server's system user afterwards (novara/embedded.py `adopt_data_dir`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import conninfo as libpq

from . import embedded

SERVER = "novara"  # the server's name in Barman's configuration
SLOT = "barman"  # the replication slot pg_receivewal streams through
RECEIVER = "barman_receive_wal"  # pg_receivewal's application_name (pg_stat_replication)
DEFAULT_RETENTION_DAYS = 14
# On the embedded server: WAL the slot may hold back when the stream stops, before PostgreSQL gives up the slot
# (the stream must then start over from a new base backup) rather than fill the disk.
MAX_SLOT_WAL_KEEP = "8GB"
INSTALL_HINT = "pip install -e '.[backup]' (or `make backup-tools`)"


class BackupError(Exception):
    """A precondition is missing or Barman failed; the message says which and what to do."""


def default_repo(data_dir: Path) -> Path:
    """NOVARA_BACKUP_DIR, else <data dir>/backup (keep it on another disk than the data in production)."""
    env = os.environ.get("NOVARA_BACKUP_DIR")
    return Path(env) if env else data_dir / "backup"


def barman_path() -> str:
    """The barman command: NOVARA_BARMAN, else the one installed next to this Python, else PATH."""
    chosen = os.environ.get("NOVARA_BARMAN")
    candidates = [chosen] if chosen else [str(Path(sys.executable).with_name("barman")), shutil.which("barman")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"barman is not installed: {INSTALL_HINT}")


def ensure_rsync(log: Callable[[str], None]) -> None:
    """Barman copies backups with rsync: install Debian's package when it is missing and we may (root, apt-get),
    saying so; BackupError otherwise."""
    if shutil.which("rsync"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "rsync"]
        for commands in ([install], [["apt-get", "update", "-qq"], install]):  # then with fresh package lists
            for command in commands:
                log(f"rsync is not installed (Barman restores with it): running `{shlex.join(command)}`")
                subprocess.run(command, env=env, capture_output=True)
            if shutil.which("rsync"):
                return
    raise BackupError("rsync is not installed (Barman restores with it): apt-get install rsync")


def conninfo(url: str) -> str:
    """A libpq key=value string for Barman's configuration (it adds its own keys for replication)."""
    return libpq.make_conninfo(**libpq.conninfo_to_dict(url))


@dataclass(frozen=True)
class Repo:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "barman.conf"

    def require(self) -> None:
        if not self.config.is_file():
            raise BackupError(f"no backup is set up in {self.path}: run `novara backup setup` (or pass --repo)")


def config_text(repo: Repo, source_conninfo: str, retention_days: int) -> str:
    """Barman's configuration: streaming-only (pg_basebackup + pg_receivewal through a slot), no SSH."""
    user = "root" if os.geteuid() == 0 else getpass.getuser()
    return f"""# Written by `novara backup setup`; docs/operations.md, "Back up and restore".
[barman]
barman_home = {repo.path}
barman_user = {user}
log_file = {repo.path / "barman.log"}
log_level = INFO
configuration_files_directory =

[{SERVER}]
description = Novara Schema V2
conninfo = {source_conninfo}
streaming_conninfo = {source_conninfo}
backup_method = postgres
streaming_archiver = on
slot_name = {SLOT}
create_slot = auto
streaming_archiver_name = {RECEIVER}
path_prefix = {embedded.bin_dir()}
retention_policy = RECOVERY WINDOW OF {retention_days} DAYS
wal_retention_policy = main
minimum_redundancy = 1
last_backup_maximum_age = 2 DAYS
"""


@dataclass(frozen=True)
class Backup:
    backup_id: str
    status: str
    end: dt.datetime | None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Backup:
        stamp = item.get("end_time_timestamp")
        end = dt.datetime.fromtimestamp(int(stamp), dt.UTC) if stamp else None
        return cls(str(item["backup_id"]), str(item.get("status", "")), end)


class Barman:
    """Runs `barman -c <repo>/barman.conf …`, printing each command first."""

    def __init__(self, repo: Repo, out: TextIO) -> None:
        self.repo = repo
        self.out = out
        self.base = [barman_path(), "-c", str(repo.config)]

    def run(self, *args: str, check: bool = True) -> int:
        command = [*self.base, *args]
        print(f"$ {shlex.join(command)}", file=self.out, flush=True)
        started = time.monotonic()
        rc = subprocess.run(command, stdout=self.out, stderr=subprocess.STDOUT).returncode
        print(f"(barman {args[0]}: exit {rc}, {time.monotonic() - started:.1f} s)", file=self.out, flush=True)
        if check and rc != 0:
            raise BackupError(f"barman {args[0]} failed (exit {rc}); its log: {self.repo.path / 'barman.log'}")
        return rc

    def backups(self) -> list[Backup]:
        """Every backup, oldest first (`barman -f json list-backups`)."""
        command = [*self.base, "-f", "json", "list-backups", SERVER]
        r = subprocess.run(command, capture_output=True, text=True)
        if r.returncode != 0:
            raise BackupError(f"barman list-backups failed: {(r.stderr or r.stdout).strip()}")
        items = [Backup.from_json(item) for item in json.loads(r.stdout or "{}").get(SERVER, [])]
        return sorted(items, key=lambda b: b.backup_id)


def _print(out: TextIO) -> Callable[[str], None]:
    return lambda line: print(line, file=out, flush=True)


def setup(repo: Repo, source_url: str, *, retention_days: int, data_dir: Path | None, out: TextIO) -> int:
    """Write Barman's configuration, start the WAL stream (slot + pg_receivewal), archive a first WAL segment,
    take a first base backup and check everything: from then on any instant can be restored. data_dir: the
    embedded server's NOVARA_DATA_DIR (None for a server given by URL)."""
    say = _print(out)
    barman_path()  # before writing anything
    ensure_rsync(say)
    if data_dir is not None:
        embedded.apply_settings(source_url, {"max_slot_wal_keep_size": MAX_SLOT_WAL_KEEP})
        say(f"server: max_slot_wal_keep_size = {MAX_SLOT_WAL_KEEP}")
    repo.path.mkdir(parents=True, exist_ok=True)
    repo.path.chmod(0o700)  # the configuration may hold a password; the backups hold health data
    repo.config.write_text(config_text(repo, conninfo(source_url), retention_days))
    repo.config.chmod(0o600)
    say(f"wrote {repo.config} (retention: {retention_days} days, WAL streamed by pg_receivewal, slot {SLOT})")
    barman = Barman(repo, out)
    barman.run("cron")  # creates the slot and starts `barman receive-wal` in the background
    barman.run("switch-wal", "--force", "--archive", "--archive-timeout", "60", SERVER)
    barman.run("backup", "--wait", SERVER)
    rc = barman.run("check", SERVER, check=False)
    say("")
    say("Schedule (crontab of the user that ran this):")
    if data_dir is None:
        say("  (with DATABASE_URL and MIGRATION_DATABASE_URL set as for this command)")
    for line in schedule_lines(repo, data_dir):
        say(f"  {line}")
    return 0 if rc == 0 else 1


def schedule_lines(repo: Repo, data_dir: Path | None) -> list[str]:
    """The crontab lines docs/operations.md explains: Barman's maintenance every minute (restarts the stream,
    archives streamed WAL, applies retention), a base backup every night, the quick check every 5 minutes and a
    restore test every week."""
    novara = shlex.quote(str(Path(sys.executable).with_name("novara")))
    barman = shlex.join([barman_path(), "-c", str(repo.config)])
    env = f"NOVARA_BACKUP_DIR={shlex.quote(str(repo.path))}"
    if data_dir is not None:
        env = f"NOVARA_DATA_DIR={shlex.quote(str(data_dir.resolve()))} {env}"
    return [
        f"* * * * *   {barman} cron",
        f"30 2 * * *  {env} {novara} backup now",
        f"*/5 * * * * {env} {novara} backup check --quick || <alert>",
        f"0 4 * * 0   {env} {novara} backup check || <alert>",
    ]


def now(repo: Repo, out: TextIO) -> int:
    """A base backup now (the stream is (re)started first, as `barman cron` would)."""
    repo.require()
    barman = Barman(repo, out)
    barman.run("cron")
    barman.run("backup", "--wait", SERVER)
    return 0


def list_backups(repo: Repo, out: TextIO) -> int:
    repo.require()
    barman = Barman(repo, out)
    barman.run("list-backups", SERVER)
    done = [b for b in barman.backups() if b.status == "DONE" and b.end]
    if done and done[0].end:
        print(f"recoverable from {done[0].end.isoformat()} (end of the oldest backup) to now", file=out)
    else:
        print("no complete backup yet: nothing can be restored (`novara backup now`)", file=out)
    return 0


def parse_target(text: str) -> dt.datetime:
    """`--to`: an ISO 8601 instant; without an offset it is UTC. ValueError when it is not one, or in the future."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp (e.g. '2026-12-07 14:03:00+00'): {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > dt.datetime.now(dt.UTC):
        raise ValueError(f"{when.isoformat()} is in the future")
    return when


def choose_backup(backups: list[Backup], target: dt.datetime | None) -> Backup:
    """The newest complete backup that ended before the target (the newest of all when there is none)."""
    done = [b for b in backups if b.status == "DONE" and b.end is not None]
    if not done:
        raise BackupError("no complete backup in the repository: `novara backup now` first")
    if target is None:
        return done[-1]
    before = [b for b in done if b.end is not None and b.end < target]
    if not before:
        oldest = done[0].end.isoformat() if done[0].end else "?"
        raise BackupError(f"no backup ended before {target.isoformat()}: the oldest one ends at {oldest}")
    return before[-1]


@dataclass(frozen=True)
class Restored:
    data_dir: Path  # a NOVARA_DATA_DIR: pg/ (the data), and the secrets copied from the source's data dir
    backup: Backup
    recovered: embedded.Recovered | None  # None when the copy is of another major version than the embedded one


def restore(
    repo: Repo,
    target_dir: Path,
    target: dt.datetime | None,
    *,
    secrets_from: Path | None,
    out: TextIO,
    stall_timeout: float = 120.0,
) -> Restored:
    """Restore into target_dir/pg (a new directory) to `target` (None: as far as the archive goes), run the
    recovery on a server started here until it promotes itself, and stop it: the copy is then an ordinary data
    dir that `NOVARA_DATA_DIR=<target_dir> novara serve` serves. The source is not touched."""
    say = _print(out)
    repo.require()
    ensure_rsync(say)
    barman = Barman(repo, out)
    backup = choose_backup(barman.backups(), target)
    pgdata = target_dir / "pg"
    target_dir.mkdir(parents=True, exist_ok=True)
    args = ["recover", SERVER, backup.backup_id, str(pgdata), "--partial-wal"]
    if target is not None:
        # Stop just before the first transaction that committed after the target, and open for writes.
        args += ["--target-time", target.isoformat(sep=" "), "--target-action", "promote"]
    barman.run(*args)
    if secrets_from is not None:  # tokens and the gateway's login keep working on the copy
        for name in ("jwt_secret", "authenticator_password"):
            if (secrets_from / name).is_file():
                shutil.copy2(secrets_from / name, target_dir / name)
    embedded.adopt_data_dir(pgdata)
    version = int((pgdata / "PG_VERSION").read_text().strip())
    if version != embedded.major_version():
        say(f"the copy is PostgreSQL {version}: start it with that version's server to run its recovery")
        return Restored(target_dir, backup, None)
    say(f"recovering {pgdata} (the embedded PostgreSQL {version}, until it promotes itself) …")
    recovered = embedded.recover(pgdata, stall_timeout=stall_timeout)
    last = recovered.last_replayed.isoformat() if recovered.last_replayed else "none"
    say(f"recovered in {recovered.seconds:.1f} s: the last transaction replayed committed at {last}")
    return Restored(target_dir, backup, recovered)


# Row counts that `backup check` prints for the copy and the source; health_events is compared exactly.
COUNTED_TABLES = ("users", "user_profiles", "health_events", "daily_checkins", "insights")
# Events recorded this long before the newest event of the copy are all committed in the copy (no write
# transaction of the api lasts that long), so the copy and the source must hold the same number of them.
SETTLED = dt.timedelta(minutes=1)


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0]) for t in COUNTED_TABLES}  # type: ignore[index]


def settled_events(url: str, cutoff: dt.datetime) -> tuple[int, int]:
    """(events recorded before the cutoff, events erased at or after it)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM public.health_events WHERE recorded_at < %s", (cutoff,)).fetchone()
        erased = conn.execute(
            "SELECT coalesce(sum(events_deleted), 0) FROM public.erasure_log WHERE erased_at >= %s", (cutoff,)
        ).fetchone()
    return (int(row[0]) if row else 0), (int(erased[0]) if erased else 0)


def newest_event(url: str) -> dt.datetime | None:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT max(recorded_at) FROM public.health_events").fetchone()
    return row[0] if row else None


def check_quick(repo: Repo, source_url: str | None, out: TextIO) -> int:
    """`barman check` (stream running, slot, last backup younger than 2 days, …) and the stream's lag."""
    repo.require()
    rc = Barman(repo, out).run("check", SERVER, check=False)
    if source_url is not None:
        lag = stream_lag(source_url)
        if lag is None:
            print(f"stream: FAILED (no {RECEIVER} connected to the server)", file=out)
            rc = rc or 1
        else:
            print(f"stream: OK ({lag[0]} bytes behind, write lag {lag[1]})", file=out)
    return 0 if rc == 0 else 1


# pg_receivewal fsyncs a segment when it completes, so its flush position trails; what it has received and
# written is what a restore with the streamed partial segment gets.
STREAM_LAG_SQL = (
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), write_lsn)::bigint, coalesce(write_lag::text, '0') "
    "FROM pg_stat_replication WHERE application_name = %s"
)


def stream_lag(url: str) -> tuple[int, str] | None:
    """(bytes of WAL the receiver has not received yet, its write lag), None when no receiver is connected."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(STREAM_LAG_SQL, (RECEIVER,)).fetchone()
    return (int(row[0] or 0), str(row[1])) if row else None


def check(repo: Repo, source_url: str | None, scratch_root: Path, *, keep: bool, out: TextIO) -> int:
    """The quick check, then restore the latest backup and all the WAL after it into a scratch dir, run the
    selftest on the copy, and compare its row counts with the source's. Exit 0 only when everything passed."""
    from .selftest import selftest

    say = _print(out)
    rc = check_quick(repo, source_url, out)
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = scratch_root / f"novara-backup-check-{os.getpid()}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    try:
        restored = restore(repo, scratch, None, secrets_from=None, out=out)
        if restored.recovered is None:
            say("backup check: FAILED (the copy is of another major version; restore it by hand)")
            return 1
        server = embedded.start(scratch / "pg", fast=False)
        try:
            url = server.ensure_database("novara")
            say("selftest on the copy:")
            failed = selftest(url, out) != 0
            copy = row_counts(url)
            if source_url is not None:
                source = row_counts(source_url)
                say(f"{'table':<16} {'copy':>12} {'source':>12}")
                for table in COUNTED_TABLES:
                    say(f"{table:<16} {copy[table]:>12} {source[table]:>12}")
                cutoff = (newest_event(url) or restored.backup.end or dt.datetime.now(dt.UTC)) - SETTLED
                copy_settled, _ = settled_events(url, cutoff)
                source_settled, erased = settled_events(source_url, cutoff)
                # An erasure on the source since the cutoff removes events the copy still holds.
                ok = source_settled <= copy_settled <= source_settled + erased
                say(
                    f"health_events recorded before {cutoff.isoformat()}: copy {copy_settled}, source "
                    f"{source_settled}{f' (+{erased} erased since)' if erased else ''}: {'OK' if ok else 'FAILED'}"
                )
                failed |= not ok
            else:
                say(f"rows in the copy: {copy}")
        finally:
            server.stop()
        say(f"backup check: {'FAILED' if failed or rc else 'OK'} (backup {restored.backup.backup_id})")
        return 1 if failed or rc else 0
    finally:
        if keep:
            say(f"the copy is kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
