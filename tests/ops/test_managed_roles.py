"""docs/roles.md's managed-PostgreSQL set-up, run as written on a fresh server: the owner is not a superuser.

A server of its own (roles are cluster-wide, and the run's server already has them, made by a superuser). The
admin's and the owner's SQL blocks are read from docs/roles.md and run with psql; `novara migrate` runs as the
owner; then the gateway, through the authenticator, serves a sign-up and a check-in, and the analyst login
reads health rows but no email.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from gateway import auth
from gateway.app import create_app
from gateway.settings import load
from novara import embedded
from novara.logins import inspect_login
from tests.conftest import SECRET, novara, novara_env

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "roles.md"


def block(name: str) -> str:
    """The fenced SQL between `<!-- name:begin -->` and `<!-- name:end -->` in docs/roles.md."""
    m = re.search(rf"<!-- {name}:begin -->\s*```sql\n(.*?)```\s*<!-- {name}:end -->", DOC.read_text(), re.DOTALL)
    assert m, f"docs/roles.md has no {name} block"
    return m.group(1)


def psql(url: str, script: str, **variables: str) -> None:
    args = [str(embedded.bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    r = subprocess.run(args, input=script, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def server() -> Iterator[embedded.EmbeddedServer]:
    run_dir = embedded.scratch_root() / f"novara-managed-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir()
    srv = embedded.start(run_dir / "pg", fast=True, delete=True)
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_managed_setup_from_the_docs(server: embedded.EmbeddedServer) -> None:
    admin = server.url("postgres")
    psql(admin, block("managed-admin"), owner_password="owner-secret")
    base = server.url("novara")
    owner = embedded.with_login(base, "novara_owner", "owner-secret")
    gateway = embedded.with_login(base, "novara_authenticator", "gateway-secret")

    r = novara("migrate", env=novara_env(DATABASE_URL=gateway, MIGRATION_DATABASE_URL=owner))
    assert r.returncode == 0, r.stdout + r.stderr
    psql(owner, block("managed-owner"), gateway_password="gateway-secret", analyst_password="analyst-secret")

    with psycopg.connect(admin.replace("/postgres?", "/novara?"), autocommit=True) as conn:
        attrs = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'novara_owner'").fetchone()
        assert attrs == (False, False)
        # everything is owned by the owner or by novara_definer: nothing by the admin
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(o) FROM ("
            " SELECT relowner FROM pg_class WHERE relnamespace IN ('api'::regnamespace, 'core'::regnamespace)"
            "  OR (relnamespace = 'public'::regnamespace AND relname NOT LIKE 'pg_stat_statements%')"
            " UNION ALL SELECT proowner FROM pg_proc"
            "  WHERE pronamespace IN ('api'::regnamespace, 'core'::regnamespace, 'public'::regnamespace)"
            "  AND proname NOT LIKE 'pg_stat_statements%') AS x (o) ORDER BY 1"
        ).fetchall()
        assert owners == [("novara_definer",), ("novara_owner",)]

    assert inspect_login(gateway).powers == []
    owner_login = inspect_login(owner)
    assert owner_login.powers and "superuser" not in " ".join(owner_login.powers)

    settings = load({"DATABASE_URL": gateway, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, gateway, SECRET)) as client:
        assert client.post("/api/auth/signup", json={"email": "m@example.com"}).status_code == 201
        h = {"Authorization": f"Bearer {auth.sign(SECRET, {'email': 'm@example.com'})}"}
        created = client.post("/api/checkins", json={"mood_today": "hopeful", "confidence_today": 7}, headers=h)
        assert created.status_code == 201, created.text

    analyst = embedded.with_login(base, "ana", "analyst-secret")
    with psycopg.connect(analyst, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) > 0 FROM public.health_events").fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT email FROM public.users")
