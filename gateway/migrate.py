"""Migrations: versioned files in db/schema, repeatable files in db/functions and db/views.

- `db/schema/NNNN_name.sql` are applied once, in order of NNNN, each in its own transaction, and
  recorded in `public.schema_migrations` with a SHA-256 checksum. Editing an applied file is drift:
  the run is refused before anything is applied.
- `db/functions/*.sql` then `db/views/*.sql` (lexical order within each folder) are repeatable: applied
  when new or when their checksum changed, together with every repeatable that depends on them, all in
  one transaction. A file states what it needs with a header line `-- depends: views/other.sql`; the
  order is a topological sort of those edges, ties broken by the default order above.
- A session-level advisory lock serialises concurrent runners: each migration is applied exactly once.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

LOCK_KEY = 0x4E4F5641  # "NOVA": one advisory lock for every migration runner
REPEATABLE_DIRS = ("functions", "views")
_VERSIONED = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_DEPENDS = re.compile(r"^--\s*depends:\s*(.+)$", re.MULTILINE)

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
    '(db/functions, db/views) with the checksum of the text last applied.';
"""


class MigrationError(Exception):
    """A migration could not be applied (the message names the file and the server's error)."""


class DriftError(MigrationError):
    """An applied versioned migration's file changed since it was applied."""


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


@dataclass
class Plan:
    versioned: list[Migration] = field(default_factory=list)
    repeatable: list[Migration] = field(default_factory=list)
    applied: dict[str, tuple[str, str, object]] = field(default_factory=dict)  # name -> (kind, sum, at)

    @property
    def empty(self) -> bool:
        return not self.versioned and not self.repeatable


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
        out.append(Migration(path.stem, "versioned", path, checksum(path)))
    return out


def discover_repeatable(db_dir: Path) -> list[Migration]:
    """Repeatable files in their apply order (dependencies first)."""
    found: dict[str, Migration] = {}
    for folder in REPEATABLE_DIRS:
        for path in sorted((db_dir / folder).glob("*.sql")):
            name = f"{folder}/{path.name}"
            deps = tuple(d.strip() for line in _DEPENDS.findall(path.read_text()) for d in line.split(","))
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


class Migrator:
    def __init__(self, conn: psycopg.Connection, db_dir: Path, log: Callable[[str], None] = print):
        if not conn.autocommit:
            raise ValueError("the migrator needs an autocommit connection")
        self.conn = conn
        self.db_dir = db_dir
        self.log = log

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
        drift = [m.name for m in versioned if m.name in applied and applied[m.name][1] != m.checksum]
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
        return Plan(pending_v, [m for m in repeatable if m.name in todo], applied)

    def run(self, dry_run: bool = False) -> Plan:
        with _AdvisoryLock(self.conn):
            if not dry_run:
                self.conn.execute(BOOTSTRAP)
            plan = self.plan()
            if dry_run:
                return plan
            for m in plan.versioned:
                self._apply([m])
            if plan.repeatable:
                self._apply(plan.repeatable)
            return plan

    def _apply(self, batch: list[Migration]) -> None:
        """Apply a batch in one transaction: all of it is recorded, or none of it."""
        with self.conn.transaction():
            for m in batch:
                text = m.text
                started = time.perf_counter()
                try:
                    self.conn.execute(text)  # type: ignore[arg-type]  # a whole file, no parameters
                except psycopg.Error as err:
                    raise MigrationError(
                        f"{m.path.relative_to(self.db_dir.parent)}{_line_of(text, err)}: "
                        f"{(err.diag.message_primary or str(err)).strip()}"
                        + (f" [SQLSTATE {err.sqlstate}]" if err.sqlstate else "")
                    ) from err
                ms = int((time.perf_counter() - started) * 1000)
                self.conn.execute(
                    """INSERT INTO public.schema_migrations (name, kind, checksum, execution_ms)
                       VALUES (%s, %s, %s, %s)
                       ON CONFLICT (name) DO UPDATE
                       SET checksum = EXCLUDED.checksum, applied_at = now(),
                           execution_ms = EXCLUDED.execution_ms""",
                    (m.name, m.kind, m.checksum, ms),
                )
                self.log(f"applied {m.kind} {m.name} ({ms} ms)")


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


LATEST_APPLIED_SQL = "SELECT max(name) FROM public.schema_migrations WHERE kind = 'versioned'"
