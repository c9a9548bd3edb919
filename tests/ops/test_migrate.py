"""Migrations: empty → latest, no-op rerun, drift refusal, concurrency, atomic failure, repeatables."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from novara import DB_DIR
from novara.migrate import DriftError, MigrationError, Migrator, discover_repeatable, migrate


def applied_names(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM public.schema_migrations ORDER BY name")]


def make_db_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "db"
    for folder in ("schema", "functions", "views", "backfills"):
        (root / folder).mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_empty_to_latest_then_noop(empty_db_url: str) -> None:
    first = migrate(empty_db_url, DB_DIR, log=lambda _: None)
    expected = sorted(p.stem for p in (DB_DIR / "schema").glob("*.sql"))
    assert [m.name for m in first.versioned] == expected
    names = applied_names(empty_db_url)
    assert set(expected) <= set(names)
    assert {m.name for m in discover_repeatable(DB_DIR)} <= set(names)
    second = migrate(empty_db_url, DB_DIR, log=lambda _: None)
    assert second.empty
    assert applied_names(empty_db_url) == names


def test_drift_is_refused_before_anything_runs(empty_db_url: str, tmp_path: Path) -> None:
    db = make_db_dir(tmp_path, {"schema/0001_a.sql": "CREATE TABLE a (x int);"})
    migrate(empty_db_url, db, log=lambda _: None)
    (db / "schema/0001_a.sql").write_text("CREATE TABLE a (x bigint);")
    (db / "schema/0002_b.sql").write_text("CREATE TABLE b (x int);")
    with pytest.raises(DriftError, match="0001_a"):
        migrate(empty_db_url, db, log=lambda _: None)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.b')").fetchone() == (None,)


def test_a_valid_checksum_line_accepts_the_former_text_and_nothing_else(empty_db_url: str, tmp_path: Path) -> None:
    from novara.migrate import checksum

    db = make_db_dir(tmp_path, {"schema/0001_a.sql": "CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x);"})
    migrate(empty_db_url, db, log=lambda _: None)
    former = checksum(db / "schema/0001_a.sql")
    # the same objects, statements reordered: a database that applied the former text is up to date
    (db / "schema/0001_a.sql").write_text(f"-- valid-checksum: {former}\nCREATE TABLE a (x int);\n")
    assert migrate(empty_db_url, db, log=lambda _: None).empty
    # a checksum line naming some other text does not excuse an edit
    (db / "schema/0001_a.sql").write_text(f"-- valid-checksum: {'0' * 64}\nCREATE TABLE a (x bigint);\n")
    with pytest.raises(DriftError, match="0001_a"):
        migrate(empty_db_url, db, log=lambda _: None)


def test_missing_applied_file_is_drift(empty_db_url: str, tmp_path: Path) -> None:
    db = make_db_dir(tmp_path, {"schema/0001_a.sql": "CREATE TABLE a (x int);"})
    migrate(empty_db_url, db, log=lambda _: None)
    (db / "schema/0001_a.sql").unlink()
    with pytest.raises(DriftError, match="missing"):
        migrate(empty_db_url, db, log=lambda _: None)


def test_failing_migration_leaves_nothing_half_applied(empty_db_url: str, tmp_path: Path) -> None:
    db = make_db_dir(
        tmp_path,
        {
            "schema/0001_ok.sql": "CREATE TABLE ok (x int);",
            "schema/0002_bad.sql": "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELEC 1;",
        },
    )
    with pytest.raises(MigrationError, match=r"0002_bad.sql \(line 3\).*syntax error"):
        migrate(empty_db_url, db, log=lambda _: None)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.half')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('public.ok')").fetchone() != (None,)
    assert applied_names(empty_db_url) == ["0001_ok"]


def test_two_concurrent_runners_apply_each_migration_once(empty_db_url: str, tmp_path: Path) -> None:
    # Without the lock, the second runner would fail on CREATE TABLE (no IF NOT EXISTS) or log twice.
    db = make_db_dir(
        tmp_path,
        {
            "schema/0001_slow.sql": "SELECT pg_sleep(0.4); CREATE TABLE once (x int);",
            "schema/0002_log.sql": "CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);",
            "functions/f.sql": "CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
        },
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(empty_db_url, db, log=lambda _: None)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    assert applied_names(empty_db_url) == ["0001_slow", "0002_log", "functions/f.sql"]


def test_repeatables_reapply_on_change_with_their_dependents(empty_db_url: str, tmp_path: Path) -> None:
    db = make_db_dir(
        tmp_path,
        {
            "schema/0001_t.sql": "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);",
            "functions/double.sql": (
                "CREATE OR REPLACE FUNCTION public.k() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2';"
            ),
            "views/v.sql": (
                "-- depends: functions/double.sql\n"
                "DROP VIEW IF EXISTS public.v CASCADE; CREATE VIEW public.v AS SELECT x * public.k() AS y FROM t;"
            ),
            "views/a_first_by_name.sql": "-- depends: views/v.sql\nCREATE OR REPLACE VIEW public.w AS SELECT y FROM v;",
        },
    )
    logged: list[str] = []
    migrate(empty_db_url, db, log=logged.append)
    # dependencies first, whatever the file names say
    assert [line.split()[2] for line in logged if "repeatable" in line] == [
        "functions/double.sql",
        "views/v.sql",
        "views/a_first_by_name.sql",
    ]
    logged.clear()
    (db / "functions/double.sql").write_text(
        "CREATE OR REPLACE FUNCTION public.k() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 3';"
    )
    migrate(empty_db_url, db, log=logged.append)
    assert len([line for line in logged if "repeatable" in line]) == 3
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT sum(y) FROM w").fetchone() == (9,)
    logged.clear()
    assert migrate(empty_db_url, db, log=logged.append).empty


def test_a_renamed_repeatable_is_forgotten_with_the_run_that_applies_its_successor(
    empty_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Splitting or renaming a repeatable file leaves its old name in schema_migrations: the status shows it as
    gone, the next run deletes the record in the transaction that applies the new file (and its dependents), and
    afterwards nothing is pending. Backfills run last, after the views they read."""
    from gateway.settings import load
    from novara.cli import print_status

    db = make_db_dir(
        tmp_path,
        {
            "schema/0001_t.sql": "CREATE TABLE t (x int); INSERT INTO t VALUES (1);",
            "functions/helpers.sql": "CREATE OR REPLACE FUNCTION public.k() RETURNS int LANGUAGE sql AS 'SELECT 2';",
            "views/v.sql": "-- depends: functions/helpers.sql\nCREATE VIEW public.v AS SELECT public.k() AS y;",
            "backfills/fill.sql": "INSERT INTO t SELECT y FROM public.v;",
        },
    )
    logged: list[str] = []
    migrate(empty_db_url, db, log=logged.append)
    assert [line.split()[2] for line in logged if "repeatable" in line] == [
        "functions/helpers.sql",
        "views/v.sql",
        "backfills/fill.sql",
    ]
    (db / "functions/helpers.sql").rename(db / "functions/public_k.sql")
    (db / "views/v.sql").write_text(
        "-- depends: functions/public_k.sql\nCREATE OR REPLACE VIEW public.v AS SELECT public.k() AS y;"
    )
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        plan = Migrator(conn, db).plan()
    assert plan.forgotten == ["functions/helpers.sql"] and not plan.empty
    print_status(empty_db_url, load({"NOVARA_DB_DIR": str(db)}))
    status = capsys.readouterr().out
    assert re.search(r"^repeatable +functions/helpers.sql +gone ", status, re.MULTILINE), status
    assert re.search(r"^repeatable +functions/public_k.sql +pending ", status, re.MULTILINE), status
    logged.clear()
    migrate(empty_db_url, db, log=logged.append)
    assert "forgot repeatable functions/helpers.sql (its file is gone)" in logged
    assert {line.split()[2] for line in logged if line.startswith("applied")} == {
        "functions/public_k.sql",
        "views/v.sql",
    }
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute("SELECT name, xmin::text FROM public.schema_migrations WHERE kind = 'repeatable'")
        xmin = dict(rows.fetchall())
    assert set(xmin) == {"functions/public_k.sql", "views/v.sql", "backfills/fill.sql"}
    assert xmin["functions/public_k.sql"] == xmin["views/v.sql"]  # one transaction, the forgetting included
    assert migrate(empty_db_url, db, log=lambda _: None).empty
    # a file deleted with nothing else to apply is forgotten on its own
    (db / "backfills/fill.sql").unlink()
    logged.clear()
    plan = migrate(empty_db_url, db, log=logged.append)
    assert plan.forgotten == ["backfills/fill.sql"] and logged == [
        "forgot repeatable backfills/fill.sql (its file is gone)"
    ]
    assert migrate(empty_db_url, db, log=lambda _: None).empty


def test_dependency_cycle_and_unknown_dependency_are_errors(tmp_path: Path) -> None:
    db = make_db_dir(
        tmp_path,
        {"views/a.sql": "-- depends: views/b.sql\n", "views/b.sql": "-- depends: views/a.sql\n"},
    )
    with pytest.raises(MigrationError, match="cycle"):
        discover_repeatable(db)
    shutil.rmtree(db)
    db = make_db_dir(tmp_path, {"views/a.sql": "-- depends: views/nope.sql\n"})
    with pytest.raises(MigrationError, match="nope"):
        discover_repeatable(db)


def test_dry_run_changes_nothing(empty_db_url: str) -> None:
    plan = migrate(empty_db_url, DB_DIR, dry_run=True, log=lambda _: None)
    assert not plan.empty
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone() == (None,)


def test_migrator_needs_autocommit(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url) as conn, pytest.raises(ValueError):
        Migrator(conn, DB_DIR)


def test_a_with_functions_file_commits_with_the_repeatable_files(empty_db_url: str, tmp_path: Path) -> None:
    """The contract step: 0002 drops what the old function uses; it is applied after 0003 and together with the
    new function, so no session ever sees the table without the index and the old function at once."""
    db = make_db_dir(
        tmp_path,
        {
            "schema/0001_t.sql": "CREATE TABLE t (x int);\nCREATE UNIQUE INDEX t_x ON t (x);",
            "schema/0002_drop.sql": "-- migrate: with-functions\nDROP INDEX t_x;",
            "schema/0003_u.sql": "CREATE TABLE u (x int);",
            "functions/f.sql": "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        },
    )
    migrate(empty_db_url, db, log=lambda _: None)
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute(
            "SELECT name, xmin::text FROM public.schema_migrations ORDER BY applied_at, name"
        ).fetchall()
    order = [name for name, _ in rows]
    assert order.index("0003_u") < order.index("0002_drop")
    xmin = dict(rows)
    assert xmin["0002_drop"] == xmin["functions/f.sql"] != xmin["0003_u"]  # one transaction with the function
    (db / "schema/0009_bad.sql").write_text("-- migrate: with-functions\n-- migrate: no-transaction\nSELECT 1;")
    with pytest.raises(MigrationError, match="with-functions"):
        migrate(empty_db_url, db, log=lambda _: None)


# main before db/ was reorganised (one function per file, db/backfills, 0021): databases migrated with that tree
# exist, and must reach the same catalog as a fresh install of this one.
FORMER_LAYOUT = "ee6f9ddab93a91e2ea3261d9684fdd5a408222e6"

CATALOG = """
SELECT 'function ' || p.oid::regprocedure::text, jsonb_build_object(
    'owner', pg_catalog.pg_get_userbyid(p.proowner), 'acl', p.proacl::text,
    'comment', pg_catalog.obj_description(p.oid, 'pg_proc'),
    'definition', CASE WHEN p.prokind = 'a' THEN p.prosrc ELSE pg_catalog.pg_get_functiondef(p.oid) END)
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace::regnamespace::text IN ('api', 'core', 'public')
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'relation ' || c.oid::regclass::text, jsonb_build_object(
    'kind', c.relkind, 'owner', pg_catalog.pg_get_userbyid(c.relowner), 'acl', c.relacl::text,
    'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
    'definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
    'columns', (SELECT jsonb_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace::regnamespace::text IN ('api', 'core', 'public') AND c.relkind IN ('r', 'v', 'm', 'i')
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'policy ' || pol.polrelid::regclass::text || ' ' || pol.polname, jsonb_build_object(
    'roles', pol.polroles::regrole[]::text, 'using', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
    'check', pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid))
FROM pg_catalog.pg_policy AS pol
"""


def catalog(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(CATALOG).fetchall())  # type: ignore[arg-type]


def test_a_database_of_the_former_layout_upgrades_to_a_fresh_install(
    empty_db_url: str, db_url: str, tmp_path: Path
) -> None:
    """A database migrated at FORMER_LAYOUT (data in both tables, a V1 write pending import) upgrades in one run:
    the files that were split or renamed are forgotten, their successors applied with what depends on them, and the
    functions, views, tables, privileges and policies are then exactly those of a fresh install (db_url)."""
    import subprocess

    root = DB_DIR.parent
    if (
        not (root / ".git").exists()
        or subprocess.run(
            ["git", "-C", str(root), "cat-file", "-e", f"{FORMER_LAYOUT}^{{commit}}"], capture_output=True
        ).returncode
    ):
        pytest.skip(f"needs the git history (commit {FORMER_LAYOUT[:7]}): a clone, not an export or shallow clone")
    archive = subprocess.run(["git", "-C", str(root), "archive", FORMER_LAYOUT, "db"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    former = tmp_path / "db"
    migrate(empty_db_url, former, log=lambda _: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO public.users (email) VALUES ('ann@example.com')")
        conn.execute("""SELECT set_config('request.jwt.claims', '{"email": "ann@example.com"}', false)""")
        conn.execute("""SELECT api.create_checkin('{"mood_today": "v2", "confidence_today": 5}')""")
        conn.execute(
            "INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today) "
            "SELECT id, DATE '2026-01-01', 'v1 pending', 6 FROM public.users"
        )
        assert conn.execute("SELECT count(*) FROM public.legacy_checkin_changes").fetchone() == (1,)

    logged: list[str] = []
    plan = migrate(empty_db_url, DB_DIR, log=logged.append)
    former_names = {m.name for m in discover_repeatable(former)}
    current_names = {m.name for m in discover_repeatable(DB_DIR)}
    assert set(plan.forgotten) == former_names - current_names and plan.forgotten, logged
    assert {m.name for m in plan.repeatable} >= current_names - former_names
    assert "functions/core_fail.sql" not in {m.name for m in plan.repeatable}  # unchanged since: not rebuilt
    assert migrate(empty_db_url, DB_DIR, log=lambda _: None).empty
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute("SELECT name FROM public.schema_migrations WHERE kind = 'repeatable'").fetchall()
        assert {name for (name,) in rows} == current_names
        assert conn.execute("SELECT count(*) FROM public.legacy_checkin_changes").fetchone() == (0,)
        moods = conn.execute("SELECT mood_today FROM public.daily_checkins_legacy ORDER BY mood_today").fetchall()
        assert moods == [("v1 pending",), ("v2",)]  # the pending V1 write was imported by the new functions

    upgraded, fresh = catalog(empty_db_url), catalog(db_url)
    assert upgraded.keys() == fresh.keys(), (upgraded.keys() - fresh.keys(), fresh.keys() - upgraded.keys())
    assert [k for k in fresh if upgraded[k] != fresh[k]] == []
