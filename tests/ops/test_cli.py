"""The `novara` command: arguments, migrate, token, psql, and serve end to end."""

from __future__ import annotations

import re
import shutil
import signal
import stat
import uuid
from pathlib import Path

import jwt
import psycopg
import pytest

from novara import embedded
from tests._serve import gateway_env, get_json, start, start_serve
from tests.conftest import SECRET, novara, novara_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sub", ["serve", "migrate", "db-url", "db-stop", "psql", "token"])
def test_every_subcommand_has_help(sub: str) -> None:
    r = novara(sub, "--help", env=novara_env())
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower()


@pytest.mark.parametrize(
    "args",
    [["bogus"], ["migrate", "--nope"], ["migrate", "--status", "--dry-run"], ["token"], ["serve", "--port", "x"]],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str]) -> None:
    r = novara(*args, env=novara_env())
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "error" in r.stderr


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [("USE_SCHEMA_V2", "maybe", "USE_SCHEMA_V2"), ("JWT_SECRET", "short", "JWT_SECRET")],
)
def test_bad_settings_refuse_to_start(var: str, value: str, needle: str) -> None:
    r = novara("migrate", "--status", env=novara_env(**{var: value}))
    assert r.returncode == 2
    assert needle in r.stderr


def test_migrate_status_and_noop(db_url: str) -> None:
    env = novara_env(DATABASE_URL=db_url)
    r = novara("migrate", "--status", env=env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"versioned\s+0001_schemas_and_extensions\s+applied", r.stdout)
    r = novara("migrate", env=env)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout


def test_migrate_drift_exits_1(empty_db_url: str, tmp_path: Path) -> None:
    db = tmp_path / "db"
    (db / "schema").mkdir(parents=True)
    (db / "schema" / "0001_a.sql").write_text("CREATE TABLE a (x int);")
    env = novara_env(DATABASE_URL=empty_db_url, NOVARA_DB_DIR=str(db))
    assert novara("migrate", env=env).returncode == 0
    (db / "schema" / "0001_a.sql").write_text("CREATE TABLE a (y int);")
    r = novara("migrate", env=env)
    assert r.returncode == 1
    assert "drift" in r.stderr and "0001_a" in r.stderr


def test_token_is_valid_for_the_configured_secret() -> None:
    r = novara("token", "--email", " Ann@Example.com ", env=novara_env(JWT_SECRET=SECRET))
    assert r.returncode == 0, r.stderr
    claims = jwt.decode(r.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["email"] == "ann@example.com"
    assert claims["exp"] - claims["iat"] == 30 * 86400


def test_psql_runs_against_the_configured_database(db_url: str) -> None:
    r = novara("psql", "-tAc", "select 40 + 2", env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42"


def test_serve_with_database_url(db_url: str, gateway_url: str) -> None:
    proc, base, log = start_serve(gateway_env(db_url, gateway_url, USE_SCHEMA_V2="off"))
    try:
        status, body = get_json(base + "/api/health/detailed?token=secret-value")
        assert status == 200
        assert body["checks"]["schemaV2"] == "disabled"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    out = log.read_text()
    # one line per request: method, path, status, ms — and never the query string
    assert re.search(r"^GET /api/health/detailed 200 \d+\.\dms$", out, re.MULTILINE), out
    assert "secret-value" not in out


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_with_workers(db_url: str, gateway_url: str, stop: signal.Signals) -> None:
    """--workers 2: uvicorn's supervisor and two worker processes, each serving; Ctrl-C (or a service manager's
    SIGTERM) stops them all."""
    proc, base = start(gateway_env(db_url, gateway_url), "--workers", "2")
    try:
        assert [get_json(base + "/api/health")[0] for _ in range(20)] == [200] * 20
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, children  # the workers (and uvicorn's resource tracker, if any)
    finally:
        proc.send_signal(stop)
        assert proc.wait(15) == 0
    # the supervisor returned only after every process it started (workers, multiprocessing's resource tracker)
    # had exited and been reaped: none is left running, none left a zombie
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []


def test_serve_embedded_keeps_data_and_secret_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = novara_env(NOVARA_DATA_DIR=str(data))
    for _ in range(2):
        proc, base = start(env)
        try:
            assert get_json(base + "/api/health")[0] == 200
            secret_file = data / "jwt_secret"
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
            secret = secret_file.read_text().strip()
            assert len(secret) >= 32
            password_file = data / "authenticator_password"
            assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
            password = password_file.read_text().strip()
            gateway_logins(env, password)
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
        assert embedded.postmaster_pid(data / "pg") is None, "embedded server still running after Ctrl-C"
    assert secret_file.read_text().strip() == secret  # reused, not regenerated
    assert password_file.read_text().strip() == password
    assert (data / "pg" / "log").exists()


def gateway_logins(env: dict[str, str], password: str) -> None:
    """On `make run`'s database: the gateway's pooled connections log in as the authenticator (no superuser, no
    BYPASSRLS, no owner), which needs its password on the socket; the analyst's three-line attack is refused."""
    r = novara(
        "psql",
        "-XAtc",
        "SELECT DISTINCT a.usename, r.rolsuper, r.rolbypassrls, pg_has_role(a.usename, c.relowner, 'MEMBER') "
        "FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename, pg_class c "
        "WHERE a.application_name = 'novara-gateway' AND c.oid = 'public.health_events'::regclass",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["novara_authenticator|f|f|f"], r.stdout
    url = novara("db-url", env=env).stdout.strip()
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(embedded.with_login(url, "novara_authenticator")).close()
    psycopg.connect(embedded.with_login(url, "novara_authenticator", password)).close()
    attack = novara(
        "psql",
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "SET ROLE novara_analyst",
        "-c",
        """SELECT set_config('request.jwt.claims', '{"email":"victim@example.com"}', false)""",
        "-c",
        """SELECT api.update_me('{"nickname":"pwned"}')""",
        env=env,
    )
    assert attack.returncode != 0
    assert "ERROR:  permission denied for schema api" in attack.stderr, attack.stderr  # analysts: no api at all


def test_serve_refuses_a_powerful_login(db_url: str) -> None:
    """A superuser DATABASE_URL (and no override): one line on stderr naming the role and the fix, exit 1."""
    r = novara("serve", "--port", "0", env=novara_env(DATABASE_URL=db_url, JWT_SECRET=SECRET), timeout=60)
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, r.stderr
    assert errors[0].startswith("novara: refusing to serve as postgres: it is a superuser")
    assert "novara_authenticator" in errors[0] and "NOVARA_ALLOW_POWERFUL_LOGIN=true" in errors[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("attributes", "grants", "why"),
    [
        ("", "novara_api, novara_definer", "can become the owner of the schema's objects (novara_definer)"),
        ("BYPASSRLS", "novara_api", "it bypasses row-level security (BYPASSRLS)"),
        ("", "novara_analyst", "cannot SET ROLE novara_api"),
    ],
    ids=["owner", "bypassrls", "not-the-api-role"],
)
def test_serve_refuses_a_login_that_can_become_an_owner_or_not_the_api_role(
    db_url: str, gateway_url: str, attributes: str, grants: str, why: str
) -> None:
    role = f"novara_test_login_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOINHERIT {attributes}; GRANT {grants} TO {role}")  # type: ignore[arg-type]
    try:
        env = novara_env(
            DATABASE_URL=embedded.with_login(db_url, role), MIGRATION_DATABASE_URL=db_url, JWT_SECRET=SECRET
        )
        r = novara("serve", "--port", "0", env=env, timeout=60)
        assert r.returncode == 1
        assert why in r.stderr and role in r.stderr, r.stderr
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]


def test_serve_with_a_powerful_login_when_allowed_warns(db_url: str) -> None:
    env = novara_env(DATABASE_URL=db_url, JWT_SECRET=SECRET, NOVARA_ALLOW_POWERFUL_LOGIN="true")
    proc, base, log = start_serve(env)
    try:
        assert get_json(base + "/api/health")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    output = log.read_text()
    assert "serving as postgres, which should not serve requests: it is a superuser" in output


def test_commands_attach_to_a_running_embedded_server_without_restarting_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = novara_env(NOVARA_DATA_DIR=str(data))
    proc, base = start(env)
    try:
        pid = embedded.postmaster_pid(data / "pg")
        assert pid is not None
        r = novara("migrate", "--status", env=env)
        assert r.returncode == 0, r.stderr
        assert embedded.postmaster_pid(data / "pg") == pid, "a CLI command restarted the server under the gateway"
        assert get_json(base + "/api/health")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0


def test_serve_as_the_authenticator_alone_checks_nothing_is_pending(
    db_url: str, gateway_url: str, tmp_path: Path
) -> None:
    """DATABASE_URL naming the authenticator and no MIGRATION_DATABASE_URL (a gateway beside a separate migrate
    step): it serves when the schema is up to date, and refuses, naming what is pending, when it is not."""
    proc, base = start(novara_env(DATABASE_URL=gateway_url, JWT_SECRET=SECRET))
    try:
        assert get_json(base + "/api/health")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    db = tmp_path / "db"
    shutil.copytree(ROOT / "db", db)
    (db / "schema" / "9999_later.sql").write_text("CREATE TABLE public.later (x int);\n")
    r = novara(
        "serve", "--port", "0", env=novara_env(DATABASE_URL=gateway_url, JWT_SECRET=SECRET, NOVARA_DB_DIR=str(db))
    )
    assert r.returncode == 1
    assert "1 migration(s) pending (9999_later): run `novara migrate` as the owner first" in r.stderr, r.stderr


def test_migrate_sets_the_authenticator_password_when_given(db_url: str) -> None:
    r = novara("migrate", env=novara_env(DATABASE_URL=db_url, NOVARA_AUTHENTICATOR_PASSWORD="s3cret-for-the-gateway"))
    assert r.returncode == 0, r.stderr
    assert "novara_authenticator: password set" in r.stdout
    assert "s3cret" not in r.stdout + r.stderr
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'novara_authenticator'").fetchone()
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")
