"""Back up and restore (docs/operations.md): `pg_dump -Fc` of a database with data, `pg_restore` elsewhere.

Data is created through the api functions (as the gateway role), the database is dumped, restored into a new
empty database (same server) and into a brand-new cluster (where the roles must be created first, as the
operations doc says: `novara migrate` on a scratch database), and both copies must hold the same events,
policies, ownership and grants, and give the same JSON from the api functions.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from novara import embedded
from novara.migrate import Migrator
from tests.conftest import novara, novara_env

ROOT = Path(__file__).resolve().parents[2]
ANN, BOB = "ann@example.com", "bob@example.com"
PER_USER_TABLES = {"users", "user_profiles", "health_events", "insights", "daily_checkins"}

# Catalog facts a restore must carry over (RLS policies and flags, function owners and grants, triggers).
CATALOG = {
    "policies": "SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check "
    "FROM pg_catalog.pg_policies ORDER BY 1, 2, 3",
    "rls": "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_catalog.pg_class AS c "
    "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    "functions": "SELECT p.oid::regprocedure::text, pg_catalog.pg_get_userbyid(p.proowner), p.prosecdef, "
    "p.proacl::text FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace "
    "WHERE n.nspname IN ('api', 'core') ORDER BY 1",
    "table_grants": "SELECT table_schema, table_name, grantee, privilege_type "
    "FROM information_schema.role_table_grants WHERE grantee LIKE 'novara\\_%' ORDER BY 1, 2, 3, 4",
    "triggers": "SELECT tgrelid::regclass::text, tgname FROM pg_catalog.pg_trigger WHERE NOT tgisinternal "
    "ORDER BY 1, 2",
    "migrations": "SELECT name, checksum FROM public.schema_migrations ORDER BY 1",
    "events": "SELECT to_jsonb(e) FROM public.health_events AS e ORDER BY e.recorded_at, e.id",
    "checkins": "SELECT to_jsonb(c) FROM public.daily_checkins AS c ORDER BY c.id",
    "users": "SELECT to_jsonb(u) FROM public.users AS u ORDER BY u.email",
    "daily_metrics": "SELECT to_jsonb(m) - 'last_updated' FROM public.user_daily_metrics AS m ORDER BY 1",
}


def call(conn: psycopg.Connection, email: str | None, function: str, args: dict[str, Any] | None = None) -> Any:
    """One api.* call as the gateway makes it: one transaction, role novara_api, the user's claims."""
    with conn.transaction():
        claims = json.dumps({"email": email}) if email else ""
        conn.execute(
            "SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', %s, true)", [claims]
        )
        row = conn.execute(f"SELECT api.{function}(%s)", [Jsonb(args or {})]).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def seed(url: str) -> dict[str, str]:
    """Two users with check-ins (one corrected, one retracted) and events; returns a few ids."""
    with psycopg.connect(url, autocommit=True) as conn:
        call(conn, None, "signup", {"email": ANN, "nickname": "Ann", "timezone": "Europe/Paris"})
        call(conn, None, "signup", {"email": BOB})
        first = call(
            conn,
            ANN,
            "create_checkin",
            {
                "mood_today": "anxious",
                "confidence_today": 4,
                "date_submitted": "2026-01-05",
                "side_effects": ["bloating"],
            },
        )
        call(
            conn,
            ANN,
            "create_checkin",
            {
                "mood_today": "hopeful, grateful",
                "confidence_today": 8,
                "medication_taken": "yes",
                "user_note": "line one\nline two",
            },
        )
        call(conn, ANN, "update_checkin", {"id": first["checkin"]["id"], "confidence_today": 6})
        call(
            conn,
            ANN,
            "create_event",
            {"event_type": "medication", "event_data": {"status": "taken"}, "idempotency_key": "k-1"},
        )
        gone = call(conn, BOB, "create_checkin", {"mood_today": "tired", "confidence_today": 5})
        call(conn, BOB, "delete_checkin", {"id": gone["checkin"]["id"]})
        call(conn, BOB, "create_event", {"event_type": "note", "event_data": {"text": "bob's note"}})
        conn.execute("SELECT public.refresh_user_metrics(true)")
    return {"ann_checkin": first["checkin"]["id"]}


def snapshot(url: str) -> dict[str, Any]:
    """The catalog facts and table contents above, and what the api functions return for each user."""
    with psycopg.connect(url, autocommit=True) as conn:
        shot: dict[str, Any] = {name: conn.execute(q).fetchall() for name, q in CATALOG.items()}  # type: ignore[arg-type]
        for email in (ANN, BOB):
            shot[email] = {
                "me": call(conn, email, "me"),
                "list": call(conn, email, "list_checkins", {"limit": "100"}),
                "timeline": call(conn, email, "timeline", {"start_date": "2000-01-01", "include_history": "true"}),
                "last_values": call(conn, email, "last_values"),
                "summary": call(conn, email, "daily_summary", {"date": "2026-01-05"}),
                "analytics": call(conn, email, "analytics", {"timeframe": "quarter"}),
            }
    return shot


def pg_tool(name: str, url: str) -> str:
    """pg_dump / pg_restore whose major version is at least the server's (the embedded one's first)."""
    with psycopg.connect(url) as conn:
        server_major = conn.info.server_version // 10000
    for candidate in (str(embedded.bin_dir() / name), shutil.which(name)):
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=True).stdout
            match = re.search(r"(\d+)(?:\.\d+)?", version)
            if match and int(match.group(1)) >= server_major:
                return candidate
    pytest.skip(f"no {name} for PostgreSQL {server_major}")


def dump(url: str, path: Path) -> None:
    subprocess.run([pg_tool("pg_dump", url), "-Fc", "-f", str(path), "-d", url], check=True, capture_output=True)


def restore(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [pg_tool("pg_restore", url), "--exit-on-error", "-d", url, str(path)], capture_output=True, text=True
    )


def check_restored(url: str, ids: dict[str, str]) -> None:
    """The restored copy enforces what the original did: RLS, append-only events, and it takes writes."""
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as err:
            call(conn, BOB, "get_checkin", {"id": ids["ann_checkin"]})
        assert err.value.sqlstate == "NV404"
        with conn.transaction():
            conn.execute(
                "SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', %s, true)",
                [json.dumps({"email": BOB})],
            )
            seen = conn.execute(
                "SELECT DISTINCT u.email FROM public.health_events AS e JOIN public.users AS u ON u.id = e.user_id"
            ).fetchall()
        assert seen == [(BOB,)]
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("DELETE FROM public.health_events")
        event = call(conn, ANN, "create_event", {"event_type": "mood", "event_data": {"mood": "good"}})
        assert event["success"] is True
        conn.execute("SELECT public.refresh_user_metrics(true)")
        assert Migrator(conn, ROOT / "db").plan().empty  # `novara migrate` on the copy has nothing to do


def test_dump_and_restore_into_a_new_database(db_url: str, empty_db_url: str, tmp_path: Path) -> None:
    ids = seed(db_url)
    original = snapshot(db_url)
    secured = {name for name, enabled, forced in original["rls"] if enabled and forced}
    assert secured >= PER_USER_TABLES and len(original["policies"]) >= len(PER_USER_TABLES)
    assert len(original["events"]) >= 8
    assert original[ANN]["list"]["count"] == 2 and original[BOB]["list"]["count"] == 0

    dump(db_url, tmp_path / "novara.dump")
    r = restore(empty_db_url, tmp_path / "novara.dump")
    assert r.returncode == 0, r.stderr

    restored = snapshot(empty_db_url)
    for key in original:
        assert restored[key] == original[key], key
    check_restored(empty_db_url, ids)


@pytest.fixture
def new_cluster(tmp_path: Path) -> Iterator[embedded.EmbeddedServer]:
    """A second, empty PostgreSQL cluster: none of the novara_* roles exist there."""
    server = embedded.start(tmp_path / "pg2", fast=True, delete=True)
    try:
        yield server
    finally:
        server.stop()


def test_restore_into_a_new_cluster_needs_the_roles_first(
    db_url: str, new_cluster: embedded.EmbeddedServer, tmp_path: Path
) -> None:
    ids = seed(db_url)
    original = snapshot(db_url)
    dump(db_url, tmp_path / "novara.dump")

    # Without the roles the restore stops at the first object owned by (or granted to) one of them.
    failed = restore(new_cluster.ensure_database(f"fails_{uuid.uuid4().hex[:6]}"), tmp_path / "novara.dump")
    assert failed.returncode != 0 and re.search(r'role "novara_\w+" does not exist', failed.stderr), failed.stderr

    # The documented way: `novara migrate` on a scratch database creates the roles, then drop it.
    scratch = new_cluster.ensure_database("novara_roles")
    r = novara("migrate", env=novara_env(DATABASE_URL=scratch))
    assert r.returncode == 0, r.stderr
    with psycopg.connect(new_cluster.url(), autocommit=True) as conn:
        conn.execute("DROP DATABASE novara_roles")

    target = new_cluster.ensure_database("novara")
    r = restore(target, tmp_path / "novara.dump")
    assert r.returncode == 0, r.stderr
    restored = snapshot(target)
    for key in original:
        assert restored[key] == original[key], key
    check_restored(target, ids)
