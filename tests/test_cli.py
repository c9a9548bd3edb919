"""The `novara` command: arguments, migrate, token, psql, and serve end to end."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jwt
import pytest

from gateway import embedded

from .conftest import SECRET, novara, novara_env

ROOT = Path(__file__).resolve().parent.parent


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


def _start_serve(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(r"Novara API listening on (http://\S+)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("serve did not start: " + "".join(seen))


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def test_serve_with_database_url(db_url: str) -> None:
    proc, base = _start_serve(novara_env(DATABASE_URL=db_url, JWT_SECRET=SECRET, USE_SCHEMA_V2="off"))
    try:
        status, body = _get(base + "/api/health/detailed?token=secret-value")
        assert status == 200
        assert body["checks"]["schemaV2"] == "disabled"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    assert proc.stdout is not None
    out = proc.stdout.read()
    # one line per request: method, path, status, ms — and never the query string
    assert re.search(r"^GET /api/health/detailed 200 \d+\.\dms$", out, re.MULTILINE), out
    assert "secret-value" not in out


def test_serve_with_workers(db_url: str) -> None:
    """--workers 2: uvicorn's supervisor and two worker processes, each serving; Ctrl-C stops them all."""
    proc, base = _start_serve(novara_env(DATABASE_URL=db_url, JWT_SECRET=SECRET), "--workers", "2")
    try:
        assert [_get(base + "/api/health")[0] for _ in range(20)] == [200] * 20
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, children  # the workers (and uvicorn's resource tracker, if any)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(") ")[1][:1]


def test_serve_embedded_keeps_data_and_secret_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = novara_env(NOVARA_DATA_DIR=str(data))
    for _ in range(2):
        proc, base = _start_serve(env)
        try:
            assert _get(base + "/api/health")[0] == 200
            secret_file = data / "jwt_secret"
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
            secret = secret_file.read_text().strip()
            assert len(secret) >= 32
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
        assert embedded.postmaster_pid(data / "pg") is None, "embedded server still running after Ctrl-C"
    assert secret_file.read_text().strip() == secret  # reused, not regenerated
    assert (data / "pg" / "log").exists()


def test_commands_attach_to_a_running_embedded_server_without_restarting_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = novara_env(NOVARA_DATA_DIR=str(data))
    proc, base = _start_serve(env)
    try:
        pid = embedded.postmaster_pid(data / "pg")
        assert pid is not None
        r = novara("migrate", "--status", env=env)
        assert r.returncode == 0, r.stderr
        assert embedded.postmaster_pid(data / "pg") == pid, "a CLI command restarted the server under the gateway"
        assert _get(base + "/api/health")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
