"""The pool survives the database going away: 503 with Retry-After while it is down, 200 once it is back."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.testclient import TestClient

from gateway import auth
from gateway.app import create_app
from gateway.db import AUTHENTICATOR
from gateway.settings import load
from novara import DB_DIR, embedded
from novara.migrate import migrate
from tests.conftest import SECRET


def wait_for(client: TestClient, path: str, status: int, headers: dict[str, str], seconds: float = 15) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        r = client.get(path, headers=headers)
        if r.status_code == status:
            return time.monotonic() - started
        assert r.status_code in {200, 503}, r.text
        time.sleep(0.1)
    raise AssertionError(f"{path} did not answer {status} within {seconds} s")


def test_database_restart(tmp_path: Path) -> None:
    server = embedded.start(tmp_path / "pg", fast=True, delete=True)
    try:
        url = server.ensure_database("novara")
        migrate(url, DB_DIR, log=lambda _: None)
        gateway_url = embedded.with_login(url, AUTHENTICATOR)
        settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET})
        with TestClient(create_app(settings, gateway_url, SECRET)) as client:
            r = client.post("/api/auth/signup", json={"email": "r@example.com"})
            assert r.status_code == 201
            h = {"Authorization": f"Bearer {auth.sign(SECRET, {'email': 'r@example.com'})}"}
            assert client.get("/api/users/me", headers=h).status_code == 200

            embedded.kill_stale(server.pgdata)  # the server goes away under the gateway
            down = client.get("/api/users/me", headers=h)
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert down.json()["success"] is False
            assert client.get("/api/health").status_code == 503

            embedded.ensure_running(server)
            recovered_in = wait_for(client, "/api/users/me", 200, h)
            assert recovered_in < 10
            assert client.get("/api/users/me", headers=h).json()["user"]["email"] == "r@example.com"
    finally:
        server.stop()
