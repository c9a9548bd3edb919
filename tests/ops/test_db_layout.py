""".ci/db_layout.py (make lint): db/'s install order, names and conventions, checked without a database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "db_layout.py"

BASE = {
    "schema/0001_t.sql": "CREATE SCHEMA core; CREATE TABLE public.t (x int);",
    "functions/core_iso.sql": """\
CREATE OR REPLACE FUNCTION core.iso(ts timestamptz) RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog AS $$ SELECT ts::text $$;
COMMENT ON FUNCTION core.iso(timestamptz) IS 'An instant as text.';
""",
    "functions/core_stamp.sql": """\
-- depends: functions/core_iso.sql
CREATE OR REPLACE FUNCTION core.stamp() RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog AS $$ SELECT core.iso(now()) $$;
COMMENT ON FUNCTION core.stamp() IS 'Now, as text.';
""",
    "functions/core_stamp_later.sql": """\
CREATE OR REPLACE FUNCTION core.stamp_later() RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog AS $$ BEGIN RETURN core.iso(now() + interval '1 day'); END $$;
COMMENT ON FUNCTION core.stamp_later() IS 'Tomorrow, as text (PL/pgSQL: resolved when it runs, no header).';
""",
    "views/stamped.sql": """\
-- depends: functions/core_iso.sql
CREATE OR REPLACE VIEW public.stamped AS SELECT core.iso(now()) AS at, t.x FROM public.t AS t;
""",
    "backfills/fill.sql": """\
-- depends: functions/core_stamp_later.sql
DO $$ BEGIN PERFORM core.stamp_later(); END $$;
""",
}


def db_dir(tmp_path: Path, changes: dict[str, str | None] | None = None) -> Path:
    files = {**BASE, **(changes or {})}
    for name, text in files.items():
        if text is not None:
            (tmp_path / "db" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "db" / name).write_text(text)
    return tmp_path / "db"


def run(db: Path) -> tuple[int, list[str]]:
    r = subprocess.run([sys.executable, str(SCRIPT), str(db)], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout.splitlines()[:-1]  # the last line is the summary


def test_the_repository_passes() -> None:
    code, problems = run(ROOT / "db")
    assert (code, problems) == (0, [])


def test_a_consistent_tree_passes(tmp_path: Path) -> None:
    assert run(db_dir(tmp_path)) == (0, [])


def without_header(name: str) -> str:
    return BASE[name].split("\n", 1)[1]


def edited(name: str, old: str, new: str) -> str:
    assert old in BASE[name]
    return BASE[name].replace(old, new)


BROKEN = {
    # the view uses core.iso at CREATE VIEW: without the header, a fresh install works only by luck of the order
    "missing-depends": (
        {"views/stamped.sql": without_header("views/stamped.sql")},
        "db/views/stamped.sql: uses core.iso (db/functions/core_iso.sql) when installed: "
        "add `-- depends: functions/core_iso.sql`",
    ),
    # a SQL-language body is checked by CREATE FUNCTION: the same rule
    "sql-body": (
        {"functions/core_stamp.sql": without_header("functions/core_stamp.sql")},
        "db/functions/core_stamp.sql: uses core.iso (db/functions/core_iso.sql) when installed: "
        "add `-- depends: functions/core_iso.sql`",
    ),
    # a PL/pgSQL body needs no header, but what it calls must be defined somewhere
    "late-typo": (
        {"functions/core_stamp_later.sql": edited("functions/core_stamp_later.sql", "core.iso(", "core.isoo(")},
        "db/functions/core_stamp_later.sql: calls core.isoo, which no file defines",
    ),
    "removed-file": (
        {"functions/core_iso.sql": None},
        "db/functions/core_stamp.sql: depends on functions/core_iso.sql, which does not exist",
    ),
    "unused-depends": (
        {"views/stamped.sql": "-- depends: functions/core_stamp.sql\n" + BASE["views/stamped.sql"]},
        "db/views/stamped.sql: `-- depends: functions/core_stamp.sql` names nothing this file uses when installed",
    ),
    # a DO block runs at install time what its calls reach: here a view installed after it
    "do-block-order": (
        {
            "views/stamped.sql": BASE["views/stamped.sql"]
            + "-- depends: functions/core_stamp_later.sql\nDO $$ BEGIN PERFORM core.stamp_later(); END $$;\n",
            "functions/core_stamp_later.sql": edited(
                "functions/core_stamp_later.sql", "now() + interval '1 day'", "(SELECT max(z.at) FROM public.zz AS z)"
            ),
            "views/zz.sql": "CREATE OR REPLACE VIEW public.zz AS SELECT now() AS at;\n",
        },
        "db/views/stamped.sql: its DO block reaches db/views/zz.sql, which is installed after it",
    ),
    "file-name": (
        {
            "functions/core_iso.sql": BASE["functions/core_iso.sql"] + without_header("functions/core_stamp.sql"),
            "functions/core_stamp.sql": None,
        },
        "db/functions/core_iso.sql: defines core.stamp: functions/core_iso.sql defines core.iso or core.iso_… "
        "(db/README.md, 'Where a function lives')",
    ),
    "search-path": (
        {"functions/core_iso.sql": edited("functions/core_iso.sql", "SET search_path = pg_catalog ", "")},
        "db/functions/core_iso.sql: core.iso: a function sets search_path = pg_catalog",
    ),
    "definer": (
        {"functions/core_iso.sql": edited("functions/core_iso.sql", "LANGUAGE sql", "LANGUAGE sql SECURITY DEFINER")},
        "db/functions/core_iso.sql: core.iso: a SECURITY DEFINER function is handed to novara_definer "
        "(ALTER FUNCTION … OWNER TO)",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_tree_fails_with_the_reason(tmp_path: Path, case: str) -> None:
    changes, expected = BROKEN[case]
    code, problems = run(db_dir(tmp_path, changes))
    assert code == 1
    assert expected in problems, problems
