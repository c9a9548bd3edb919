"""squawk on new migrations (.ci/squawk.py, make lint): it selects NNNN >= 0013 and fails on unsafe DDL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "squawk.py"

pytestmark = pytest.mark.skipif(
    not (Path(sys.executable).parent / "squawk").exists() and not shutil.which("squawk"),
    reason="squawk (squawk-cli, pyproject dev extras) is not installed",
)

# One table the samples alter (grandfathered: 0001 is below the linted range).
BASE = "CREATE TABLE public.t (id bigint PRIMARY KEY, a text);\n"

SAFE = """\
ALTER TABLE public.t ADD COLUMN note text;
COMMENT ON COLUMN public.t.note IS 'nullable, no default: a catalog-only change';
"""
SAFE_INDEX = """\
-- migrate: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS public.t_a_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON public.t (a);
"""
UNSAFE = {
    # a volatile default rewrites the whole table under ACCESS EXCLUSIVE
    "volatile_default": "ALTER TABLE public.t ADD COLUMN seen timestamptz NOT NULL DEFAULT clock_timestamp();\n",
    # a plain CREATE INDEX blocks every write to the table while it builds
    "blocking_index": "CREATE INDEX t_a_idx ON public.t (a);\n",
    # CONCURRENTLY in a file the migrator wraps in a transaction: PostgreSQL refuses it
    "concurrently_in_transaction": "CREATE INDEX CONCURRENTLY t_a_idx ON public.t (a);\n",
}


def db_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "db"
    (root / "schema").mkdir(parents=True)
    (root / "schema" / "0001_base.sql").write_text(BASE + UNSAFE["blocking_index"])  # grandfathered
    for name, text in files.items():
        (root / "schema" / name).write_text(text)
    return root


def squawk(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(db)], capture_output=True, text=True, timeout=60)


def test_repository_migrations_pass() -> None:
    r = squawk(ROOT / "db")
    assert r.returncode == 0, r.stdout + r.stderr


def test_safe_new_migrations_pass_and_old_ones_are_grandfathered(tmp_path: Path) -> None:
    r = squawk(db_dir(tmp_path, {"0013_note.sql": SAFE, "0014_index.sql": SAFE_INDEX}))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 new migration(s) clean" in r.stdout


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_new_migration_fails(tmp_path: Path, case: str) -> None:
    r = squawk(db_dir(tmp_path, {"0013_bad.sql": UNSAFE[case]}))
    assert r.returncode != 0, r.stdout + r.stderr
    assert "0013_bad.sql" in r.stdout + r.stderr
