"""The operational routes through the real app and a real database."""

from __future__ import annotations

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import load
from tests.conftest import SECRET


def test_root(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.json()["message"] == "Novara API is running"
    assert b'":' in r.content and b'": ' not in r.content  # compact JSON


def test_health_ok(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["service"] == "Novara API"
    assert body["startup"] == "ready"
    assert body["timestamp"].endswith("+00:00")


def test_health_detailed_reports_latest_migration(client: TestClient) -> None:
    body = client.get("/api/health/detailed").json()
    assert body["checks"]["database"] == "postgresql"
    assert body["checks"]["schemaV2"] == "enabled"
    assert body["checks"]["migrations"].startswith("0001") or body["checks"]["migrations"] > "0001"
    assert body["checks"]["jwt"] == "configured"


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    r = client.get("/api/nope")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": "Endpoint not found", "path": "/api/nope"}
    r = client.delete("/api/health")
    assert r.status_code == 405
    assert r.json()["success"] is False


def test_health_is_503_while_database_unreachable(tmp_path) -> None:
    url = f"postgresql://postgres@/novara?host={tmp_path}"
    settings = load({"DATABASE_URL": url, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, url, SECRET)) as c:
        r = c.get("/api/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert r.headers["retry-after"]
