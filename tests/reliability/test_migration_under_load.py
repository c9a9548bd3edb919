"""Migrations under load: `novara migrate` while traffic runs fails no request and bounds lock waits.

While the mixed load of test_load runs, the migrator applies, from a copy of db/:
  0099  ALTER TABLE public.health_events ADD COLUMN (nullable, no default: a catalog change, but it needs
        ACCESS EXCLUSIVE on the hottest table, and changes the row type core.event_json takes)
  0100  `-- migrate: no-transaction`: CREATE INDEX CONCURRENTLY on public.health_events
  and two changed repeatable files (api.timeline, core.event_json) re-applied with their dependents.
Meanwhile a long reader (a report query, pg_dump) holds ACCESS SHARE on public.health_events for
HOLDER_S, longer than the bound: the ALTER cannot get its lock, and while it waits every request touching
the table queues behind it. Without lock_timeout those requests would wait the reader out (and fail at the
gateway's 5 s statement timeout for a longer reader); with it the ALTER gives way after 1 s, the queue
drains, and the migrator retries until the reader is done.
A monitor samples pg_stat_activity every 50 ms for sessions waiting on a lock. Bound: a gateway session
never waits on a lock longer than the migrator's lock_timeout (novara/migrate.py LOCK_TIMEOUT_MS, 1 s)
plus TRAFFIC_SLACK_S for the lock to be held once granted and for a busy 2-core machine. The longest
request latency during the migration is reported.

Then, without load: the lock-timeout retry (a session holds a conflicting lock longer than lock_timeout,
the migrator retries and succeeds once it is released; gives up with a clear error if it never is) and
the rules of no-transaction files.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from novara import DB_DIR
from novara.migrate import (
    LOCK_TIMEOUT_MS,
    MigrationError,
    Migrator,
    Plan,
    discover_repeatable,
    migrate,
    split_statements,
)
from tests._report import Report, scale

from ._load import Load, describe, lost_writes, seed_users, summary
from ._stack import Stack

CLIENTS = int(scale(12, 48))
BEFORE_S, AFTER_S = scale(2, 20), scale(1, 20)
TRAFFIC_SLACK_S = 2.0
LOCK_BOUND_S = LOCK_TIMEOUT_MS / 1000 + TRAFFIC_SLACK_S
HOLDER_S = LOCK_BOUND_S + 1.0  # the reader outlasts the bound: only lock_timeout keeps traffic within it

ADD_COLUMN = """\
-- Reliability test: a new nullable column on the hottest table, applied under load.
ALTER TABLE public.health_events ADD COLUMN reliability_note text;

COMMENT ON COLUMN public.health_events.reliability_note IS 'Written by the migration-under-load test.';
"""

ADD_INDEX = """\
-- migrate: no-transaction
-- Reliability test: an index built without blocking writes. Safe to re-run from the top: the DROP clears
-- an INVALID index left by a failed build.
DROP INDEX CONCURRENTLY IF EXISTS public.health_events_reliability_note_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS health_events_reliability_note_idx
ON public.health_events (reliability_note);
"""

LOCK_WAITS = """
SELECT coalesce(application_name, ''), wait_event, extract(epoch FROM clock_timestamp() - query_start)::float8
FROM pg_catalog.pg_stat_activity
WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


def _db_copy(tmp_path: Path) -> Path:
    db = tmp_path / "db"
    shutil.copytree(DB_DIR, db, ignore=shutil.ignore_patterns("tests"))
    (db / "schema" / "0099_reliability_note.sql").write_text(ADD_COLUMN)
    (db / "schema" / "0100_reliability_note_index.sql").write_text(ADD_INDEX)
    for name in ("api_timeline.sql", "core_event_json.sql"):
        path = db / "functions" / name
        path.write_text(path.read_text() + "\n-- changed by the migration-under-load test\n")
    return db


class LockMonitor:
    """Samples lock waits every 50 ms: the longest wait seen per application_name (seconds)."""

    def __init__(self, url: str):
        self.url = url
        self.longest: dict[str, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for app, wait_event, seconds in conn.execute(LOCK_WAITS).fetchall():
                    # CREATE INDEX CONCURRENTLY waits for older transactions (virtualxid) without blocking
                    # anyone: its statement time is not a lock anybody else waits behind.
                    key = f"{app or 'other'}{' (virtualxid)' if wait_event == 'virtualxid' else ''}"
                    self.longest[key] = max(self.longest.get(key, 0.0), seconds or 0.0)
                self.samples += 1
                self._stop.wait(0.05)


def test_migration_under_load_fails_no_request(tmp_path: Path, report: Report) -> None:
    db = _db_copy(tmp_path)
    logs: list[str] = []
    plans: list[Plan] = []
    with Stack() as stack:
        users = seed_users(stack.db_url, CLIENTS, days=30)
        assert stack.gateway is not None
        load = Load(stack.base_url, users, stack.gateway.pid)
        load.start()
        try:
            time.sleep(BEFORE_S)
            with LockMonitor(stack.db_url) as monitor, stack.connect() as reader:
                with reader.transaction():
                    reader.execute("LOCK TABLE public.health_events IN ACCESS SHARE MODE")
                    started = time.monotonic()
                    migrator = threading.Thread(target=lambda: plans.append(migrate(stack.db_url, db, log=logs.append)))
                    migrator.start()
                    time.sleep(HOLDER_S)
                migrator.join(timeout=60)
                finished = time.monotonic()
            time.sleep(AFTER_S)
        finally:
            result = load.stop()
        missing, unacked, details = lost_writes(stack.db_url, result)
        with stack.connect() as conn:
            column = conn.execute("SELECT to_regclass('public.health_events_reliability_note_idx') IS NOT NULL")
            index_ok = column.fetchone() == (True,)
            invalid = conn.execute("SELECT count(*) FROM pg_catalog.pg_index WHERE NOT indisvalid").fetchone()

    during = result.between(started, finished)
    worst = max((s.seconds for s in during), default=0.0)
    traffic_wait = monitor.longest.get("novara-gateway", 0.0)
    report(
        requests=result.requests,
        failures=result.failed,
        lost_writes=missing,
        note=(
            f"{CLIENTS} clients; migration {finished - started:.2f} s under load: {len(during)} requests, "
            f"max latency {worst * 1000:.0f} ms, longest gateway lock wait {traffic_wait * 1000:.0f} ms "
            f"(bound {LOCK_BOUND_S:.0f} s); whole run {summary(result)}"
        ),
    )
    info = {**describe(result), "locks": monitor.longest, "log": logs}
    assert len(plans) == 1, logs  # the migration finished (an exception would leave no plan)
    plan = plans[0]
    assert any("lock not available" in line for line in logs), logs  # the reader did make the ALTER wait
    assert traffic_wait > 0.2, info  # …and requests queued behind it: the scenario happened, the monitor saw it
    assert [m.name for m in plan.versioned] == ["0099_reliability_note", "0100_reliability_note_index"], logs
    assert {"functions/api_timeline.sql", "functions/core_event_json.sql"} <= {m.name for m in plan.repeatable}
    assert index_ok and invalid == (0,), info
    assert result.failed == 0, info
    assert len(during) > 0, info  # requests really ran while the migration did
    assert missing == 0 and unacked == 0, details
    assert monitor.samples > 0
    assert traffic_wait < LOCK_BOUND_S, info
    worst_other = max((v for k, v in monitor.longest.items() if "virtualxid" not in k), default=0.0)
    assert worst_other < LOCK_BOUND_S, info


# ------------------------------------------------------------------------------------- lock_timeout, retry


def _tiny_db(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "db"
    for folder in ("schema", "functions", "views"):
        (root / folder).mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_lock_timeout_retries_until_the_lock_is_free(empty_db_url: str, tmp_path: Path) -> None:
    db = _tiny_db(tmp_path, {"schema/0001_t.sql": "CREATE TABLE public.t (x int);"})
    migrate(empty_db_url, db, log=lambda _: None)
    (db / "schema/0002_add.sql").write_text("ALTER TABLE public.t ADD COLUMN y text;")
    logs: list[str] = []
    with psycopg.connect(empty_db_url, autocommit=True) as holder:
        with holder.transaction():
            holder.execute("LOCK TABLE public.t IN ACCESS SHARE MODE")  # a long reader: ALTER must wait
            runner = threading.Thread(
                target=lambda: _run_migrator(empty_db_url, db, logs, lock_timeout_ms=200, lock_retries=20)
            )
            started = time.monotonic()
            runner.start()
            time.sleep(1.0)  # several attempts time out meanwhile
        runner.join(timeout=30)
    took = time.monotonic() - started
    assert any("lock not available within 200 ms" in line for line in logs), logs
    assert any(line.startswith("applied versioned 0002_add") for line in logs), logs
    assert took < 10, took
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.t') IS NOT NULL").fetchone() == (True,)
        cols = conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'").fetchone()
        assert cols == (2,)


def test_lock_timeout_gives_up_with_a_clear_error(empty_db_url: str, tmp_path: Path) -> None:
    db = _tiny_db(tmp_path, {"schema/0001_t.sql": "CREATE TABLE public.t (x int);"})
    migrate(empty_db_url, db, log=lambda _: None)
    (db / "schema/0002_add.sql").write_text("ALTER TABLE public.t ADD COLUMN y text;")
    with psycopg.connect(empty_db_url, autocommit=True) as holder, holder.transaction():
        holder.execute("LOCK TABLE public.t IN ACCESS SHARE MODE")
        with pytest.raises(MigrationError, match=r"0002_add.sql: lock not available within 100 ms .*3 attempts"):
            _run_migrator(empty_db_url, db, [], lock_timeout_ms=100, lock_retries=3)
    with psycopg.connect(empty_db_url) as conn:  # nothing of 0002 applied or recorded
        assert conn.execute("SELECT count(*) FROM public.schema_migrations WHERE name = '0002_add'").fetchone() == (0,)


def _run_migrator(url: str, db: Path, logs: list[str], **options: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        Migrator(conn, db, logs.append, **options).run()  # type: ignore[arg-type]


def test_no_transaction_file_runs_concurrently_built_index(empty_db_url: str, tmp_path: Path) -> None:
    db = _tiny_db(
        tmp_path,
        {
            "schema/0001_t.sql": "CREATE TABLE public.t (x int);",
            "schema/0002_idx.sql": (
                "-- migrate: no-transaction\n"
                "DROP INDEX CONCURRENTLY IF EXISTS public.t_x_idx;  -- a failed build's INVALID index\n"
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_x_idx\nON public.t (x);\n"
            ),
        },
    )
    migrate(empty_db_url, db, log=lambda _: None)
    with psycopg.connect(empty_db_url) as conn:
        row = conn.execute(
            "SELECT indisvalid FROM pg_catalog.pg_index WHERE indexrelid = 'public.t_x_idx'::regclass"
        ).fetchone()
        assert row == (True,)
        assert conn.execute("SELECT count(*) FROM public.schema_migrations WHERE name = '0002_idx'").fetchone() == (1,)


def test_concurrently_in_a_transactional_file_names_the_header(empty_db_url: str, tmp_path: Path) -> None:
    db = _tiny_db(
        tmp_path,
        {
            "schema/0001_t.sql": "CREATE TABLE public.t (x int);",
            "schema/0002_idx.sql": "CREATE INDEX CONCURRENTLY t_x_idx ON public.t (x);\n",
        },
    )
    with pytest.raises(MigrationError, match="migrate: no-transaction"):
        migrate(empty_db_url, db, log=lambda _: None)


def test_split_statements_rules(tmp_path: Path) -> None:
    text = (
        "-- migrate: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS a;  -- note\n"
        "CREATE INDEX CONCURRENTLY b\nON t (x);\n"
    )
    assert split_statements(text) == [
        "-- migrate: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS a;  -- note",
        "CREATE INDEX CONCURRENTLY b\nON t (x);",
    ]
    with pytest.raises(MigrationError, match=r"\$\$ bodies"):
        split_statements("-- migrate: no-transaction\nDO $$ BEGIN END $$;\n")
    with pytest.raises(MigrationError, match="does not end"):
        split_statements("VACUUM t")
    db = _tiny_db(tmp_path, {"functions/f.sql": "-- migrate: no-transaction\nSELECT 1;\n"})
    with pytest.raises(MigrationError, match="versioned files only"):
        discover_repeatable(db)
