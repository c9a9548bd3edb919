"""Test harness shared by db/tests (SQL) and tests/ (Python).

- One PostgreSQL server per run: `TEST_DATABASE_URL` when given, else the embedded server with its data
  dir under /dev/shm (tmpfs) when it exists. Servers left behind by killed runs are stopped and removed
  at the start of the next run; SIGTERM is turned into KeyboardInterrupt so a terminated run cleans up.
- A template database with every migration applied (through the real migrator) and the SQL assertion
  helpers (`db/tests/_*.sql`) loaded; each test gets a fresh `CREATE DATABASE … TEMPLATE` clone through
  pytest-postgresql's `postgresql` fixture.
- `db/tests/test_*.sql` files are collected as tests: every `CREATE FUNCTION tests.test_<name>()` in a
  file becomes one pytest item that loads the file into a fresh database and runs `SELECT
  tests.test_<name>()`. A raised error fails the item with file, function, SQLSTATE and message.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import psycopg
import pytest
from pytest_postgresql import factories
from pytest_postgresql.executors import NoopExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from gateway.db import AUTHENTICATOR
from novara import embedded
from novara.migrate import Migrator

ROOT = Path(__file__).resolve().parent
DB_DIR = ROOT / "db"
SQL_TESTS = DB_DIR / "tests"
RUN_PREFIX = "novara-test-"


os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


BASETEMP_PREFIX = "novara-pytest-"


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _sigterm)
    # Each run gets a temp root of its own: pytest's default (/tmp/pytest-of-<user>/pytest-N) keeps the last three
    # runs and deletes older ones, including those of another run still going on this machine.
    if config.option.basetemp is None:
        root = Path(tempfile.gettempdir())
        embedded.clean_stale_runs(root, BASETEMP_PREFIX)  # left by killed runs (their embedded servers too)
        config.option.basetemp = str(root / f"{BASETEMP_PREFIX}{os.getpid()}-{_worker_id()}")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if own := config.stash.get(_OWN_BASETEMP, None):
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[str]()


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[dict[str, Any]]:
    """Connection parameters of the run's server: host (socket dir or name), port, user, password."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        parsed = urlparse(url.replace("postgres://", "postgresql://", 1))
        query = parse_qs(parsed.query)
        yield {
            "host": parsed.hostname or query.get("host", ["/var/run/postgresql"])[0],
            "port": parsed.port or int(query.get("port", ["5432"])[0]),
            "user": unquote(parsed.username or "postgres"),
            "password": unquote(parsed.password) if parsed.password else None,
        }
        return
    root = embedded.scratch_root()
    embedded.clean_stale_runs(root, RUN_PREFIX)
    run_dir = root / f"{RUN_PREFIX}{os.getpid()}-{_worker_id()}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir()
    server = embedded.start(run_dir / "pg", fast=True, delete=True)
    try:
        yield {"host": server.socket_dir, "port": 5432, "user": "postgres", "password": None}
    finally:
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def url_for(params: dict[str, Any], dbname: str) -> str:
    """A libpq URL for `dbname` on the run's server (works for sockets and TCP alike)."""
    auth = quote(params["user"]) + (":" + quote(params["password"]) if params["password"] else "")
    return f"postgresql://{auth}@/{dbname}?host={quote(str(params['host']))}&port={params['port']}"


@pytest.fixture(scope="session")
def pg_template(pg_server: dict[str, Any]) -> Iterator[NoopExecutor]:
    """A template database with every migration and the SQL test helpers; per-test DBs clone it."""
    dbname = f"novara_test_{os.getpid()}_{_worker_id()}"
    executor = NoopExecutor(
        host=pg_server["host"],
        port=pg_server["port"],
        user=pg_server["user"],
        password=pg_server["password"],
        options="",
        dbname=dbname,
    )
    janitor = DatabaseJanitor(
        user=pg_server["user"],
        host=pg_server["host"],
        port=pg_server["port"],
        password=pg_server["password"],
        dbname=executor.template_dbname,
        as_template=True,
    )
    janitor.drop()
    janitor.init()
    try:
        with psycopg.connect(url_for(pg_server, executor.template_dbname), autocommit=True) as conn:
            Migrator(conn, DB_DIR, log=lambda _line: None).run()
            for helper in sorted(SQL_TESTS.glob("_*.sql")):
                conn.execute(helper.read_text())  # type: ignore[arg-type]
        yield executor
    finally:
        janitor.drop()


# A fresh clone of the template for each test (a psycopg connection, not autocommit).
postgresql = factories.postgresql("pg_template")


@pytest.fixture
def db_url(postgresql: psycopg.Connection, pg_server: dict[str, Any]) -> str:
    """URL of the test's fresh database (for the app's pool, subprocesses, second sessions)."""
    return url_for(pg_server, postgresql.info.dbname)


@pytest.fixture
def gateway_url(db_url: str) -> str:
    """The same database as the gateway logs in: novara_authenticator (no password: the test servers trust local
    logins), which holds no privilege until its connections SET ROLE novara_api."""
    return embedded.with_login(db_url, AUTHENTICATOR)


@pytest.fixture
def empty_db_url(pg_server: dict[str, Any]) -> Iterator[str]:
    """URL of a fresh, empty database (no migrations), for migration tests."""
    name = f"novara_empty_{uuid.uuid4().hex[:10]}"
    janitor = DatabaseJanitor(
        user=pg_server["user"],
        host=pg_server["host"],
        port=pg_server["port"],
        password=pg_server["password"],
        dbname=name,
    )
    janitor.init()
    try:
        yield url_for(pg_server, name)
    finally:
        janitor.drop()


# ---------------------------------------------------------------- SQL test files (db/tests/test_*.sql)


class SqlTestFailure(Exception):
    def __init__(self, where: str, err: psycopg.Error):
        diag = err.diag
        lines = [f"{where}: [{err.sqlstate}] {diag.message_primary or str(err).strip()}"]
        if diag.message_detail:
            lines.append(f"DETAIL: {diag.message_detail}")
        if diag.message_hint:
            lines.append(f"HINT: {diag.message_hint}")
        if diag.context:
            lines.append(f"CONTEXT: {diag.context.strip()}")
        super().__init__("\n".join(lines))


def test_functions_in(path: Path) -> list[str]:
    """Names of the `tests.test_*` functions a SQL test file creates (parsed with pglast)."""
    from pglast import parse_sql
    from pglast.ast import CreateFunctionStmt

    names = []
    for raw in parse_sql(path.read_text()):
        stmt = raw.stmt
        if isinstance(stmt, CreateFunctionStmt):
            parts = [n.sval for n in stmt.funcname]
            if len(parts) == 2 and parts[0] == "tests" and parts[1].startswith("test_"):
                names.append(parts[1])
    return names


def _sql_runner(path: Path, function: str) -> Any:
    def run(postgresql: psycopg.Connection) -> None:
        postgresql.autocommit = True
        where = f"{path.relative_to(ROOT)}::{function}"
        try:
            postgresql.execute(path.read_text())  # type: ignore[arg-type]
        except psycopg.Error as err:
            raise SqlTestFailure(f"{where} (loading the file)", err) from None
        try:
            postgresql.execute(f"SELECT tests.{function}()")  # type: ignore[arg-type]
        except psycopg.Error as err:
            raise SqlTestFailure(where, err) from None

    return run


class SqlFunction(pytest.Function):
    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}::{self.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SqlTestFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class SqlFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for name in test_functions_in(self.path):
            yield SqlFunction.from_parent(self, name=name, callobj=_sql_runner(self.path, name))


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".sql" and file_path.name.startswith("test_") and file_path.parent == SQL_TESTS:
        return SqlFile.from_parent(parent, path=file_path)
    return None
