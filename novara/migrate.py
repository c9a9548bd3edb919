"""Migrations: versioned files in db/schema, repeatable files in db/functions and db/views.

- `db/schema/NNNN_name.sql` are applied once, in order of NNNN, each in its own transaction, and
  recorded in `public.schema_migrations` with a SHA-256 checksum. Editing an applied file is drift:
  the run is refused before anything is applied.
- `db/functions/*.sql`, `db/views/*.sql`, then `db/backfills/*.sql` (lexical order within each folder) are
  repeatable: applied when new or when their checksum changed, together with every repeatable that depends on
  them, all in one transaction. A file states what it needs when it is installed with a header line
  `-- depends: views/other.sql`; the order is a topological sort of those edges, ties broken by the default
  order above. `make lint` (.ci/db_layout.py) proves the headers complete: a file that uses what another file
  defines without naming it fails there, not on a fresh install.
- A repeatable file that is gone (renamed, split or deleted) is forgotten: its record in schema_migrations is
  deleted in the transaction of the repeatable files. What it defined stays unless a versioned file drops it (a
  renamed file's replacement redefines the same objects with CREATE OR REPLACE).
- A session-level advisory lock serialises concurrent runners: each migration is applied exactly once.
- Under traffic: every migration runs with `lock_timeout` (LOCK_TIMEOUT_MS). A file that cannot get its
  locks in time is rolled back and retried (LOCK_RETRIES attempts, with a pause that lets the queued
  requests through), so a migration never stalls requests behind its lock request for longer than
  LOCK_TIMEOUT_MS per attempt. After the last attempt the run fails and names the file.
- `-- migrate: with-functions` (a header line of a versioned file): the file is applied in the transaction of the
  repeatable files, after every other pending versioned file, so that what it removes disappears at the instant the
  functions that no longer need it appear (the "contract" step of expand/contract: dropping an index the old
  version of a function uses in ON CONFLICT). Until that commit, requests keep running the old functions against
  the old schema. Such a file holds only steps no later versioned file depends on.
- `-- valid-checksum: <sha256>` (header lines of a versioned file, as Liquibase's validCheckSum): a database that
  applied the file when its text had that checksum is up to date, not drifted. For the rare edit that changes
  how a file runs but not what it leaves behind (reordering statements so that an owner who is not a superuser
  may run it); the file says why next to the line.
- `-- migrate: no-transaction` (a header line of a versioned file): the file runs outside a transaction,
  one statement at a time, for what PostgreSQL refuses inside one (CREATE/DROP INDEX CONCURRENTLY,
  ALTER TYPE … ADD VALUE before PG12, VACUUM). Such a file holds plain statements each ending with `;` at
  the end of a line, no `$$` bodies, and must be safe to re-run from the top (a lock timeout retries the
  whole file): `DROP INDEX CONCURRENTLY IF EXISTS x;` (clears an INVALID index left by a failed build)
  then `CREATE INDEX CONCURRENTLY IF NOT EXISTS x …;`. It is recorded once every statement succeeded and
  no index is left INVALID.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

LOCK_KEY = 0x4E4F5641  # "NOVA": one advisory lock for every migration runner
REPEATABLE_DIRS = ("functions", "views", "backfills")
_VERSIONED = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_DEPENDS = re.compile(r"^--\s*depends:\s*(.+)$", re.MULTILINE)
_VALID_CHECKSUM = re.compile(r"^--\s*valid-checksum:\s*([0-9a-f]{64})\s*$", re.MULTILINE)
_WITH_FUNCTIONS = re.compile(r"^--\s*migrate:\s*with-functions\s*$", re.MULTILINE)
_NO_TRANSACTION = re.compile(r"^--\s*migrate:\s*no-transaction\s*$", re.MULTILINE)
# A statement of a no-transaction file ends with `;` at the end of a line (a trailing comment allowed).
_STATEMENT_END = re.compile(r";[ \t]*(?:--[^\n]*)?$", re.MULTILINE)

# The bound a migration puts on traffic: it waits at most LOCK_TIMEOUT_MS for a lock (requests queued
# behind its lock request wait as long), then gives way for a pause and tries again, LOCK_RETRIES times.
# 1 s is well under the gateway's statement timeout (5 s) and pool wait (3 s): a request queued behind a
# waiting migration is delayed, never failed.
LOCK_TIMEOUT_MS = 1000
LOCK_RETRIES = 10
RETRY_PAUSE_S = (0.2, 1.0)  # uniform random pause between attempts (jitter: two runners do not lock-step)
LOCK_NOT_AVAILABLE = "55P03"

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    name text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('versioned', 'repeatable')),
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms integer NOT NULL
);
COMMENT ON TABLE public.schema_migrations IS
    'Migrations applied by `novara migrate`: versioned files (db/schema) once each, repeatable files '
    '(db/functions, db/views, db/backfills) with the checksum of the text last applied.';
"""


# The house hands its SECURITY DEFINER functions to novara_definer (`ALTER FUNCTION … OWNER TO novara_definer`).
# A login that is not a superuser (the owner on a managed server) may do that only while the new owner holds CREATE
# on the function's schema. novara_definer holds it inside each migration's transaction only: granted first,
# revoked before the commit, so no other session ever sees it (docs/roles.md).
def _handoff(statement: str) -> str:
    """A DO block running `statement` (with %I for the schema) for api and core, once novara_definer exists."""
    return f"""
DO $$
DECLARE
    s text;
BEGIN
    IF to_regrole('novara_definer') IS NOT NULL THEN
        FOREACH s IN ARRAY ARRAY['api', 'core'] LOOP
            IF to_regnamespace(s) IS NOT NULL THEN
                EXECUTE format('{statement}', s);
            END IF;
        END LOOP;
    END IF;
END
$$"""


HANDOFF_OPEN = _handoff("GRANT CREATE ON SCHEMA %I TO novara_definer")
HANDOFF_CLOSE = _handoff("REVOKE CREATE ON SCHEMA %I FROM novara_definer")


class MigrationError(Exception):
    """A migration could not be applied (the message names the file and the server's error)."""


class DriftError(MigrationError):
    """An applied versioned migration's file changed since it was applied."""


class LockTimeout(MigrationError):
    """A migration could not get its locks within lock_timeout (rolled back; the runner retries it)."""


@dataclass(frozen=True)
class Migration:
    name: str  # versioned: "0001_init"; repeatable: "views/x.sql"
    kind: str
    path: Path
    checksum: str
    depends: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def valid_checksums(self) -> set[str]:
        """The file's checksum, and those its `-- valid-checksum:` lines accept for databases that applied it."""
        return {self.checksum, *_VALID_CHECKSUM.findall(self.text)}

    @property
    def with_functions(self) -> bool:
        """True for a versioned file with the header `-- migrate: with-functions`."""
        return bool(_WITH_FUNCTIONS.search(self.text))

    @property
    def transactional(self) -> bool:
        """False for a versioned file with the header `-- migrate: no-transaction`."""
        return not _NO_TRANSACTION.search(self.text)


@dataclass
class Plan:
    versioned: list[Migration] = field(default_factory=list)
    repeatable: list[Migration] = field(default_factory=list)
    applied: dict[str, tuple[str, str, object]] = field(default_factory=dict)  # name -> (kind, sum, at)
    forgotten: list[str] = field(default_factory=list)  # recorded repeatable files that are gone

    @property
    def empty(self) -> bool:
        return not self.versioned and not self.repeatable and not self.forgotten


def checksum(path: Path) -> str:
    data = path.read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(data).hexdigest()


def discover_versioned(db_dir: Path) -> list[Migration]:
    out: list[Migration] = []
    seen: dict[str, Path] = {}
    for path in sorted((db_dir / "schema").glob("*.sql")):
        m = _VERSIONED.match(path.name)
        if not m:
            raise MigrationError(f"{path}: versioned migrations are named NNNN_lower_snake.sql")
        if m.group(1) in seen:
            raise MigrationError(f"{path}: version {m.group(1)} is also used by {seen[m.group(1)].name}")
        seen[m.group(1)] = path
        text = path.read_text()
        if _WITH_FUNCTIONS.search(text) and _NO_TRANSACTION.search(text):
            raise MigrationError(f"{path}: with-functions runs in the repeatables' transaction, so not no-transaction")
        out.append(Migration(path.stem, "versioned", path, checksum(path)))
    return out


def discover_repeatable(db_dir: Path) -> list[Migration]:
    """Repeatable files in their apply order (dependencies first)."""
    found: dict[str, Migration] = {}
    for folder in REPEATABLE_DIRS:
        for path in sorted((db_dir / folder).glob("*.sql")):
            name = f"{folder}/{path.name}"
            deps = tuple(d.strip() for line in _DEPENDS.findall(path.read_text()) for d in line.split(","))
            if _NO_TRANSACTION.search(path.read_text()):
                raise MigrationError(f"{path}: `-- migrate: no-transaction` is for versioned files only")
            found[name] = Migration(name, "repeatable", path, checksum(path), tuple(d for d in deps if d))
    order = list(found)
    for m in found.values():
        for dep in m.depends:
            if dep not in found:
                raise MigrationError(f"{m.path}: depends on {dep}, which does not exist")
    result: list[Migration] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise MigrationError("dependency cycle: " + " -> ".join((*trail, name)))
        state[name] = 1
        for dep in sorted(found[name].depends, key=order.index):
            visit(dep, (*trail, name))
        state[name] = 2
        result.append(found[name])

    for name in order:
        visit(name, ())
    return result


def _dependents_closure(changed: set[str], repeatables: list[Migration]) -> set[str]:
    out = set(changed)
    grew = True
    while grew:
        grew = False
        for m in repeatables:
            if m.name not in out and any(d in out for d in m.depends):
                out.add(m.name)
                grew = True
    return out


def _line_of(text: str, err: psycopg.Error) -> str:
    pos = err.diag.statement_position
    if not pos:
        return ""
    return f" (line {text[: int(pos)].count(chr(10)) + 1})"


def split_statements(text: str, where: str = "") -> list[str]:
    """The statements of a no-transaction file: each ends with `;` at the end of a line; no `$$` bodies."""
    if "$" in _strip_comments(text):
        raise MigrationError(f"{where}: a no-transaction file holds plain statements, no $$ bodies")
    out: list[str] = []
    start = 0
    for m in _STATEMENT_END.finditer(text):
        chunk = text[start : m.end()]
        start = m.end()
        if _strip_comments(chunk).strip(" \t\n;"):
            out.append(chunk.strip())
    if _strip_comments(text[start:]).strip():
        raise MigrationError(f"{where}: the last statement does not end with `;` at the end of a line")
    return out


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


class Migrator:
    def __init__(
        self,
        conn: psycopg.Connection,
        db_dir: Path,
        log: Callable[[str], None] = print,
        *,
        lock_timeout_ms: int = LOCK_TIMEOUT_MS,
        lock_retries: int = LOCK_RETRIES,
    ):
        if not conn.autocommit:
            raise ValueError("the migrator needs an autocommit connection")
        self.conn = conn
        self.db_dir = db_dir
        self.log = log
        self.lock_timeout_ms = lock_timeout_ms
        self.lock_retries = max(1, lock_retries)

    def applied(self) -> dict[str, tuple[str, str, object]]:
        exists = self.conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return {}
        rows = self.conn.execute("SELECT name, kind, checksum, applied_at FROM public.schema_migrations")
        return {r[0]: (r[1], r[2], r[3]) for r in rows.fetchall()}

    def plan(self) -> Plan:
        """What a run would apply now. Raises DriftError if an applied versioned file changed."""
        applied = self.applied()
        versioned = discover_versioned(self.db_dir)
        repeatable = discover_repeatable(self.db_dir)
        drift = [m.name for m in versioned if m.name in applied and applied[m.name][1] not in m.valid_checksums]
        if drift:
            raise DriftError(
                "drift: applied migration(s) changed on disk: "
                + ", ".join(drift)
                + ". Versioned migrations are immutable: revert the edit and add a new NNNN file."
            )
        known_files = {m.name for m in versioned}
        missing = [n for n, (k, _, _) in applied.items() if k == "versioned" and n not in known_files]
        if missing:
            raise DriftError("drift: applied migration(s) missing on disk: " + ", ".join(sorted(missing)))
        pending_v = [m for m in versioned if m.name not in applied]
        changed = {m.name for m in repeatable if applied.get(m.name, ("", "", None))[1] != m.checksum}
        todo = _dependents_closure(changed, repeatable)
        present = {m.name for m in repeatable}
        gone = sorted(n for n, (k, _, _) in applied.items() if k == "repeatable" and n not in present)
        return Plan(pending_v, [m for m in repeatable if m.name in todo], applied, gone)

    def run(self, dry_run: bool = False) -> Plan:
        with _AdvisoryLock(self.conn):
            if not dry_run:
                self.conn.execute(BOOTSTRAP)
            plan = self.plan()
            if dry_run:
                return plan
            for m in plan.versioned:
                if not m.with_functions:
                    self._retrying([m])
            with_functions = [m for m in plan.versioned if m.with_functions] + plan.repeatable
            if with_functions or plan.forgotten:
                self._retrying(with_functions, forget=plan.forgotten)
            return plan

    def _retrying(self, batch: list[Migration], forget: list[str] | None = None) -> None:
        """Apply a batch; on a lock timeout (nothing applied), pause so queued requests run, then retry."""
        for attempt in range(1, self.lock_retries + 1):
            try:
                if batch and batch[0].kind == "versioned" and not batch[0].transactional:
                    self._apply_outside_transaction(batch[0])
                else:
                    self._apply(batch, forget or [])
                return
            except LockTimeout as err:
                if attempt == self.lock_retries:
                    raise MigrationError(f"{err} — gave up after {attempt} attempts; retry at a quieter time") from err
                pause = random.uniform(*RETRY_PAUSE_S)
                self.log(f"{err}; attempt {attempt} of {self.lock_retries}, retrying in {pause:.1f} s")
                time.sleep(pause)

    def _set_lock_timeout(self, local: bool) -> None:
        self.conn.execute("SELECT set_config('lock_timeout', %s, %s)", (f"{self.lock_timeout_ms}ms", local))

    def _failure(self, m: Migration, text: str, err: psycopg.Error) -> MigrationError:
        where = f"{m.path.relative_to(self.db_dir.parent)}{_line_of(text, err)}"
        if err.sqlstate == LOCK_NOT_AVAILABLE:
            return LockTimeout(f"{where}: lock not available within {self.lock_timeout_ms} ms")
        hint = ""
        if err.sqlstate == "25001":  # active_sql_transaction: e.g. CREATE INDEX CONCURRENTLY
            hint = " (add the header line `-- migrate: no-transaction` to run this file outside a transaction)"
        return MigrationError(
            f"{where}: {(err.diag.message_primary or str(err)).strip()}"
            + (f" [SQLSTATE {err.sqlstate}]" if err.sqlstate else "")
            + hint
        )

    def _record(self, m: Migration, ms: int) -> None:
        self.conn.execute(
            """INSERT INTO public.schema_migrations (name, kind, checksum, execution_ms)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (name) DO UPDATE
               SET checksum = EXCLUDED.checksum, applied_at = now(),
                   execution_ms = EXCLUDED.execution_ms""",
            (m.name, m.kind, m.checksum, ms),
        )
        self.log(f"applied {m.kind} {m.name} ({ms} ms)")

    def _apply(self, batch: list[Migration], forget: list[str]) -> None:
        """Apply a batch in one transaction: all of it is recorded, or none of it. The records of the repeatable
        files in `forget` (gone from disk) are deleted in the same transaction."""
        with self.conn.transaction():
            self._set_lock_timeout(local=True)
            if forget:
                self.conn.execute(
                    "DELETE FROM public.schema_migrations WHERE kind = 'repeatable' AND name = ANY(%s)", (forget,)
                )
                for name in forget:
                    self.log(f"forgot repeatable {name} (its file is gone)")
            self.conn.execute(HANDOFF_OPEN)
            for m in batch:
                text = m.text
                started = time.perf_counter()
                try:
                    self.conn.execute(text)  # type: ignore[arg-type]  # a whole file, no parameters
                except psycopg.Error as err:
                    raise self._failure(m, text, err) from err
                self._record(m, int((time.perf_counter() - started) * 1000))
            self.conn.execute(HANDOFF_CLOSE)

    def _apply_outside_transaction(self, m: Migration) -> None:
        """A `-- migrate: no-transaction` file: each statement on its own (autocommit), then recorded."""
        text = m.text
        statements = split_statements(text, str(m.path.relative_to(self.db_dir.parent)))
        started = time.perf_counter()
        self._set_lock_timeout(local=False)
        try:
            for statement in statements:
                try:
                    self.conn.execute(statement)  # type: ignore[arg-type]  # a statement of the file
                except psycopg.Error as err:
                    raise self._failure(m, text, err) from err
        finally:
            self.conn.execute("RESET lock_timeout")
        invalid = self.conn.execute(
            "SELECT string_agg(indexrelid::regclass::text, ', ') FROM pg_catalog.pg_index WHERE NOT indisvalid"
        ).fetchone()
        if invalid and invalid[0]:
            raise MigrationError(
                f"{m.path.relative_to(self.db_dir.parent)}: left INVALID index(es) {invalid[0]}; drop them "
                "(DROP INDEX CONCURRENTLY) and run again"
            )
        self._record(m, int((time.perf_counter() - started) * 1000))


class _AdvisoryLock:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))

    def __exit__(self, *exc: object) -> None:
        if not self.conn.closed:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def migrate(url: str, db_dir: Path, *, dry_run: bool = False, log: Callable[[str], None] = print) -> Plan:
    with psycopg.connect(url, autocommit=True) as conn:
        return Migrator(conn, db_dir, log).run(dry_run=dry_run)
