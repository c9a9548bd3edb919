"""The recovery drill (`make test-recovery`): operator mistakes undone by point-in-time recovery with Barman.

1. An embedded PostgreSQL (default durability) holds the bench's data set (NOVARA_RECOVERY_SIZE: small by
   default); `novara serve` serves it as `make run` does (NOVARA_DATA_DIR, the authenticator login).
2. `novara backup setup`: Barman's configuration, the WAL stream (pg_receivewal through a slot), a base backup.
3. Writers post check-ins and events through the gateway at a steady rate and log every acknowledged write
   with its wall-clock send and acknowledgement times. The stream's lag is sampled meanwhile.
4. At T, the mistakes: `core.erase_user` of a user who should stay, `DROP TABLE public.insights CASCADE`, and a
   superuser's `UPDATE` of every profile without a WHERE. The writers go on for a few seconds.
5. `novara restore --to T` into a new data dir; `novara serve` on it.
6. On the copy: every write acknowledged before T is there exactly once, no write sent after T is, the erased
   user, the insights and the profiles are as they were, the migrations table and the privilege matrix are
   intact, `novara selftest` passes, and an old token still works over HTTP.

The figures (writes, recovery point, recovery time) go to the run's summary and .recovery/last-run.json.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from novara import DB_DIR, backup, embedded
from novara import seed as seeding
from novara.background import start_serve
from novara.migrate import migrate
from tests._http import metric_sample
from tests.conftest import novara, novara_env
from tests.reliability._stack import CHECKIN_ROUTES, EVENT_ROUTE, Outcome, checkin_body, event_body, send, signup

from .conftest import rows

pytestmark = pytest.mark.recovery

ROOT = Path(__file__).resolve().parents[2]
SQL_TESTS = ROOT / "db" / "tests"
SIZE = os.environ.get("NOVARA_RECOVERY_SIZE", "small")
RUN_PREFIX = "novara-recovery-"
WRITERS = 4
RATE_PER_WRITER = 8.0  # requests per second each: a steady 32 writes/s in all (fewer if answers are slow)
LOAD_BEFORE_S = 8.0  # writes before the mistakes, at least
LOAD_AFTER_S = 4.0  # writes after them, which the restore must leave out, at least
MIN_ACKED_BEFORE_T = 100  # the "everything before T" check must have something to find
MIN_ACKED_AFTER_T = 40  # and so must the "nothing after T" check


def _run_root() -> Path:
    """tmpfs for the small data set; the medium one (7 GiB, three copies) goes to disk."""
    chosen = os.environ.get("NOVARA_RECOVERY_DIR")
    if chosen:
        return Path(chosen)
    return embedded.scratch_root() if SIZE in {"tiny", "small"} else Path("/var/tmp")


def _clean_stale(root: Path) -> None:
    """Stop and remove what a killed drill left: its servers (their WAL stream stops with them)."""
    for path in root.glob(RUN_PREFIX + "*"):
        try:
            owner = int(path.name[len(RUN_PREFIX) :].split("-")[0])
            os.kill(owner, 0)
        except ProcessLookupError:
            for pgdata in (path / "data" / "pg", path / "restored" / "pg"):
                embedded.kill_stale(pgdata)
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


@dataclass
class Drill:
    run_dir: Path
    source_dir: Path  # NOVARA_DATA_DIR of the damaged server
    restored_dir: Path  # NOVARA_DATA_DIR of the copy
    repo: Path
    figures: dict[str, Any] = field(default_factory=dict)
    gateways: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, data_dir: Path) -> dict[str, str]:
        env = novara_env(NOVARA_DATA_DIR=str(data_dir), NOVARA_BACKUP_DIR=str(self.repo))
        for name in ("MIGRATION_DATABASE_URL", "HOST", "PORT", "NOVARA_ALLOW_POWERFUL_LOGIN"):
            env.pop(name, None)
        return env

    def serve(self, data_dir: Path, name: str) -> str:
        """`novara serve` on a NOVARA_DATA_DIR, as `make run` does; its base URL once it listens."""
        proc, base_url = start_serve(
            ["--host", "127.0.0.1", "--port", "0"], self.env(data_dir), self.run_dir / f"{name}.log", timeout=120
        )
        self.gateways.append(proc)
        return base_url

    def stop_gateways(self) -> None:
        for proc in self.gateways:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.gateways.clear()


@pytest.fixture
def drill() -> Iterator[Drill]:
    root = _run_root()
    root.mkdir(parents=True, exist_ok=True)
    _clean_stale(root)
    run_dir = root / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir()
    d = Drill(run_dir, run_dir / "data", run_dir / "restored", run_dir / "backup")
    d.source_dir.mkdir()
    try:
        yield d
    finally:
        d.stop_gateways()
        if (d.repo / "barman.conf").exists():
            subprocess.run(
                [backup.barman_path(), "-c", str(d.repo / "barman.conf"), "receive-wal", "--stop", backup.SERVER],
                capture_output=True,
                timeout=60,
            )
        for pgdata in (d.source_dir / "pg", d.restored_dir / "pg"):
            embedded.kill_stale(pgdata)
        shutil.rmtree(run_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ the writers
@dataclass
class Write:
    outcome: Outcome
    user_id: str
    sent: float  # wall clock (time.time()), the server's clock too
    acked: float


class Writers:
    """WRITERS threads, each with its own user, one write every 1/RATE_PER_WRITER s (check-ins on a new date each
    time, and events with a client-chosen correlation_id); every outcome is logged with wall-clock times."""

    def __init__(self, base_url: str, users: list[tuple[str, str]]) -> None:
        self.base_url = base_url
        self.users = users
        self.log: list[Write] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(users))]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
            assert not t.is_alive(), "a writer hangs"

    def run_for(self, at_least: float, *, acked_since: float, count: int, at_most: float = 120.0) -> None:
        """Let the writers run `at_least` seconds, and on until `count` writes sent after `acked_since` were
        acknowledged (a busy machine answers slower), failing after `at_most` seconds."""
        started = time.monotonic()
        self._stop.wait(at_least)
        while sum(1 for w in list(self.log) if w.sent > acked_since and w.outcome.ok) < count:
            assert time.monotonic() - started < at_most, f"fewer than {count} writes acknowledged in {at_most} s"
            self._stop.wait(0.1)

    def _run(self, i: int) -> None:
        rng = random.Random(1000 + i)
        user_id, token = self.users[i]
        day = dt.date(2024, 12, 31)  # before the data set's history: never a second check-in on a date
        period = 1 / RATE_PER_WRITER
        due = time.monotonic()
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            while not self._stop.is_set():
                kind = rng.choice(["checkin", "enhanced", "event", "event"])
                if kind == "event":
                    body, path = event_body(rng), EVENT_ROUTE
                else:
                    body, path = checkin_body(rng, day), CHECKIN_ROUTES[kind]
                    day -= dt.timedelta(days=1)
                outcome = Outcome(kind, i, body, time.monotonic())
                sent = time.time()
                send(client, path, outcome)
                write = Write(outcome, user_id, sent, time.time())
                with self._lock:
                    self.log.append(write)
                due += period
                self._stop.wait(max(0.0, due - time.monotonic()))


class LagSampler:
    """Samples, while the writes run, the WAL the source has flushed but not yet sent to pg_receivewal: what a
    loss of the source's machine at that moment would lose. (pg_stat_replication's write_lag is refreshed only
    at the receiver's status reports, every 10 s, so it says little about this.)"""

    def __init__(self, url: str) -> None:
        self.url = url
        self.unsent: list[int] = []
        self.disconnected = 0  # samples with no receiver connected
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.05):
                row = conn.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), sent_lsn)::bigint FROM pg_stat_replication "
                    "WHERE application_name = %s",
                    (backup.RECEIVER,),
                ).fetchone()
                if row is None:
                    self.disconnected += 1
                else:
                    self.unsent.append(max(0, int(row[0] or 0)))


# ------------------------------------------------------------------------------------------------ what is stored
def privilege_matrix(url: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(facts, expected) of db/tests/test_privileges.sql, loaded in a transaction that is rolled back."""
    with psycopg.connect(url) as conn, conn.transaction(force_rollback=True):
        conn.execute((SQL_TESTS / "_assert.sql").read_text())  # type: ignore[arg-type]
        conn.execute((SQL_TESTS / "test_privileges.sql").read_text())  # type: ignore[arg-type]
        facts = set(conn.execute("SELECT * FROM tests.privilege_facts()").fetchall())
        expected = set(conn.execute("SELECT * FROM tests.privilege_expected()").fetchall())
    return facts, expected


def snapshot(conn: psycopg.Connection[Any], victim: str, writers: list[str]) -> dict[str, Any]:
    """What the mistakes destroy, read just before them (the writers' own rows change meanwhile: left out)."""
    return {
        "victim_events": conn.execute(
            "SELECT count(*) FROM public.health_events WHERE user_id = %s", (victim,)
        ).fetchone(),
        "insights": conn.execute("SELECT id::text, user_id::text FROM public.insights ORDER BY id").fetchall(),
        "profiles": conn.execute(
            "SELECT count(*), md5(string_agg(to_jsonb(p)::text, '' ORDER BY p.user_id)) FROM public.user_profiles AS p "
            "WHERE p.user_id <> ALL(%s::uuid[])",
            (writers,),
        ).fetchone(),
        "migrations": conn.execute("SELECT name, checksum FROM public.schema_migrations ORDER BY name").fetchall(),
    }


@dataclass
class Tally:
    acked_before: int = 0
    found: int = 0
    duplicates: int = 0
    missing: list[Write] = field(default_factory=list)
    acked_after: int = 0
    found_after: int = 0
    in_flight: int = 0
    in_flight_found: int = 0
    failed: int = 0  # no 2xx (the mistakes may make some fail): neither checked nor counted above


def tally(conn: psycopg.Connection[Any], log: list[Write], t: float) -> Tally:
    """Compare the client's log with the copy: per event its correlation_id, per check-in its (user, date) row
    and the events it became (all of them, once)."""
    users = sorted({w.user_id for w in log})
    by_corr: dict[str, list[str]] = {}
    for event_id, corr in conn.execute(
        "SELECT id::text, correlation_id::text FROM public.health_events WHERE user_id = ANY(%s::uuid[])", (users,)
    ):
        by_corr.setdefault(corr, []).append(event_id)
    live: dict[tuple[str, str], list[str]] = {}
    for cid, uid, day in conn.execute(
        "SELECT id::text, user_id::text, date_submitted::text FROM public.daily_checkins"
        " WHERE user_id = ANY(%s::uuid[])",
        (users,),
    ):
        live.setdefault((uid, day), []).append(cid)
    result = Tally()
    for w in log:
        o = w.outcome
        if o.kind == "event":
            stored = by_corr.get(o.body["correlation_id"], [])
            once = o.ok and stored == [o.response["event"]["id"]]
        else:
            rows_ = live.get((w.user_id, o.date), [])
            stored = rows_
            events = by_corr.get(rows_[0], []) if len(rows_) == 1 else []
            once = o.ok and rows_ == [o.response["checkin"]["id"]] and len(events) == len(o.expected_events())
            if len(rows_) == 1 and len(events) > len(o.expected_events()):
                result.duplicates += 1
        if len(stored) > 1:
            result.duplicates += 1
        if not o.ok:
            result.failed += 1
        elif w.acked < t:
            result.acked_before += 1
            if once:
                result.found += 1
            else:
                result.missing.append(w)
        elif w.sent > t:
            result.acked_after += 1
            result.found_after += bool(stored)
        else:
            result.in_flight += 1
            result.in_flight_found += bool(stored)
    return result


def _connect(data_dir: Path) -> tuple[embedded.EmbeddedServer, str]:
    """The superuser URL of the embedded server of a NOVARA_DATA_DIR (attached, or started)."""
    server = embedded.start(data_dir / "pg", fast=False)
    return server, server.ensure_database("novara")


def _timed(args: list[str], env: dict[str, str], timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    r = novara(*args, env=env, timeout=timeout)
    return r, time.monotonic() - started


# ------------------------------------------------------------------------------------------------ the drill
def test_point_in_time_recovery_undoes_operator_mistakes(drill: Drill) -> None:
    figures = drill.figures
    figures["data set"] = SIZE

    # 1. The source: the bench's data set on a durable embedded server, served as `make run` serves it.
    source, source_url = _connect(drill.source_dir)
    try:
        migrate(source_url, DB_DIR, log=lambda _line: None)
        started = time.monotonic()
        with psycopg.connect(source_url, autocommit=True) as conn:
            stats = seeding.load(conn, seeding.SIZES[SIZE], seed=7, writers=1, log=lambda _line: None)
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        figures["data set rows"] = f"{stats.users:,} users, {stats.events:,} events ({size[0] / 2**30:.2f} GiB)"  # type: ignore[index]
        figures["load s"] = round(time.monotonic() - started, 1)
        base_url = drill.serve(drill.source_dir, "gateway-source")

        # 2. Barman: configuration, the stream, a first base backup.
        r, seconds = _timed(["backup", "setup"], drill.env(drill.source_dir), timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "$ " in r.stdout and " backup --wait novara" in r.stdout  # it prints what it runs
        figures["backup setup s (incl. first base backup)"] = round(seconds, 1)
        r = novara("backup", "list", env=drill.env(drill.source_dir))
        assert r.returncode == 0 and "recoverable from" in r.stdout, r.stdout + r.stderr
        # What alerts when the archive falls behind: the gateway's /metrics shows the stream's slot in use.
        scraped = httpx.get(base_url + "/metrics", timeout=10).text
        assert metric_sample(scraped, "novara_replication_slot_active", slot="barman") == 1.0, scraped
        # The backups are verified, not assumed: a test restore, the selftest on it, row counts against the source.
        r, seconds = _timed(["backup", "check"], drill.env(drill.source_dir), timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "selftest: all" in r.stdout and re.search(r"health_events recorded before .*: OK", r.stdout), r.stdout
        assert "backup check: OK" in r.stdout, r.stdout
        figures["backup check s (test restore, selftest, counts)"] = round(seconds, 1)

        # 3. Users over HTTP; the victim gets events and an insight; writers at a steady rate.
        victim_id, victim_token = signup(base_url, f"victim-{uuid.uuid4().hex[:8]}@example.com")
        victim = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {victim_token}"}, timeout=10)
        with victim:
            assert victim.patch("/api/users/baseline", json={"confidence_meds": 3}).status_code == 200
            today = dt.datetime.now(dt.UTC).date()
            for k in range(3):
                day = (today - dt.timedelta(days=k + 1)).isoformat()
                body = {"mood_today": "calm", "confidence_today": 5 + k, "date_submitted": day}
                assert victim.post("/api/checkins", json=body).status_code == 201
            insight = victim.get("/api/insights/daily")
            assert insight.status_code == 200, insight.text
        writer_users = [signup(base_url, f"writer{i}-{uuid.uuid4().hex[:8]}@example.com") for i in range(WRITERS)]
        writer_ids = [user_id for user_id, _token in writer_users]
        writers = Writers(base_url, writer_users)
        facts_before, expected = privilege_matrix(source_url)
        assert facts_before == expected, "the source's privilege matrix differs from db/tests/test_privileges.sql"

        with LagSampler(source_url) as lag, psycopg.connect(source_url, autocommit=True) as conn:
            writers.start()
            writers.run_for(LOAD_BEFORE_S, acked_since=0.0, count=MIN_ACKED_BEFORE_T)
            before = snapshot(conn, victim_id, writer_ids)
            assert before["insights"], "the victim's daily insight is missing"
            # 4. T, then the mistakes.
            t = time.time()
            conn.execute("SELECT core.erase_user(%s, 'wrong user')", (victim_id,))
            conn.execute("DROP TABLE public.insights CASCADE")
            conn.execute("UPDATE public.user_profiles SET nickname = NULL, confidence_overall = 1")
            mistakes_done = time.time()
            writers.run_for(LOAD_AFTER_S, acked_since=t, count=MIN_ACKED_AFTER_T)
            writers.stop()
        drill.stop_gateways()  # the damaged server takes no more traffic; it (and the stream) keep running
        assert lag.unsent and lag.disconnected == 0, f"the WAL stream was down in {lag.disconnected} samples"

        # 5. The restore, then `novara serve` on the copy.
        target = dt.datetime.fromtimestamp(t, dt.UTC)
        r, restore_s = _timed(
            ["restore", "--to", target.isoformat(), "--target-dir", str(drill.restored_dir)],
            drill.env(drill.source_dir),
            timeout=1800,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"^\$ .*barman.* recover novara \S+ .*--target-time", r.stdout, re.M), r.stdout
        replay = re.search(r"recovered in ([\d.]+) s", r.stdout)
        # An instant before the first backup cannot be restored: said in one line, exit 1.
        early = novara("restore", "--to", "2000-01-01 00:00:00+00", env=drill.env(drill.source_dir))
        assert early.returncode == 1 and "no backup ended before" in early.stderr, early.stdout + early.stderr
        started = time.monotonic()
        restored_url_http = drill.serve(drill.restored_dir, "gateway-restored")
        serve_s = time.monotonic() - started
    finally:
        source.stop()

    # 6. The checks, on the copy.
    copy, copy_url = _connect(drill.restored_dir)
    try:
        with psycopg.connect(copy_url, autocommit=True) as conn:
            result = tally(conn, writers.log, t)
            after = snapshot(conn, victim_id, writer_ids)
            victim_row = conn.execute("SELECT count(*) FROM public.users WHERE id = %s", (victim_id,)).fetchone()
        facts_after, expected_after = privilege_matrix(copy_url)
        r_selftest = novara("selftest", env=drill.env(drill.restored_dir), timeout=120)
        with httpx.Client(base_url=restored_url_http, timeout=10) as client:
            headers = {"Authorization": f"Bearer {victim_token}"}
            timeline = client.get("/api/v2/health/timeline?limit=100&start_date=2000-01-01", headers=headers)
            new_write = client.post(
                "/api/checkins",
                headers=headers,
                json={"mood_today": "ok", "confidence_today": 6, "date_submitted": today.isoformat()},
            )
    finally:
        drill.stop_gateways()
        copy.stop()

    # The alert: with the WAL stream down (the source server was stopped, and no `barman cron` restarts the
    # stream here), the quick check fails.
    down = novara("backup", "check", "--quick", env=drill.env(drill.source_dir), timeout=120)
    assert down.returncode == 1 and "receive-wal running: FAILED" in down.stdout, down.stdout + down.stderr

    missing_ages = [t - w.acked for w in result.missing]
    figures.update(
        {
            "writes acknowledged before T": result.acked_before,
            "found after restore (exactly once)": result.found,
            "duplicates": result.duplicates,
            "writes acknowledged after T (sent after T)": result.acked_after,
            "writes after T found (must be 0)": result.found_after,
            "in flight at T (sent before, acked after): found": f"{result.in_flight_found} of {result.in_flight}",
            "writes without a 2xx": result.failed,
            "recovery point (s of acknowledged writes lost)": round(max(missing_ages, default=0.0), 3),
            "WAL flushed, not yet sent to the receiver (max)": f"{max(lag.unsent):,} bytes ({len(lag.unsent)} samples)",
            "restore s (barman recover + WAL replay)": round(restore_s, 1),
            "of which replay to T s": float(replay.group(1)) if replay else None,
            "gateway on the copy serving s": round(serve_s, 1),
            "recovery time s": round(restore_s + serve_s, 1),
            "mistakes took s": round(mistakes_done - t, 3),
        }
    )
    rows.append(figures)

    assert result.acked_before >= MIN_ACKED_BEFORE_T and result.acked_after >= MIN_ACKED_AFTER_T, figures
    assert result.missing == [], [(w.outcome.kind, w.outcome.body, t - w.acked) for w in result.missing[:5]]
    assert result.found == result.acked_before
    assert result.duplicates == 0
    assert result.found_after == 0, "writes sent after T are in the copy"
    assert victim_row == (1,), "the erased user is not back"
    assert after["victim_events"] == before["victim_events"], "the erased user's events are not all back"
    assert after["insights"] == before["insights"], "the dropped insights are not back as they were"
    assert after["profiles"] == before["profiles"], "the profiles are not as they were before the UPDATE"
    assert after["migrations"] == before["migrations"]
    assert facts_after == expected_after == facts_before, "the privilege matrix changed"
    assert r_selftest.returncode == 0, r_selftest.stdout + r_selftest.stderr
    assert timeline.status_code == 200, timeline.text
    assert len(timeline.json()["timeline"]) >= 3, timeline.text  # the victim's check-ins, with the old token
    assert new_write.status_code == 201, new_write.text  # the copy takes writes
