"""The generic handler's own duties (before and after the SQL call), through the real app."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from starlette.testclient import TestClient

from gateway import auth
from gateway.app import create_app, http_status
from gateway.settings import load
from tests.conftest import SECRET


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401(client: TestClient) -> None:
    r = client.get("/api/users/me")
    assert r.status_code == 401
    assert r.json() == {"success": False, "error": "Access token required", "code": "AUTH_REQUIRED"}


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode({"email": "a@x.io", "exp": int(time.time()) + 60}, "wrong-secret-" + "y" * 40, algorithm="HS256"),
        jwt.encode({"email": "a@x.io", "exp": int(time.time()) - 10}, SECRET, algorithm="HS256"),
        jwt.encode({"email": "a@x.io"}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"email": "a@x.io", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"),
        jwt.encode({"email": "a@x.io", "exp": int(time.time()) + 60}, None, algorithm="none"),
        jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),  # no identity
        "not.a.jwt",
        "garbage",
    ],
    ids=["wrong-secret", "expired", "no-exp", "hs512", "alg-none", "no-identity", "malformed", "garbage"],
)
def test_bad_tokens_are_403(client: TestClient, token: str) -> None:
    r = client.get("/api/users/me", headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["error"] == "Invalid or expired token"


def test_body_limits_and_json(client: TestClient) -> None:
    token = auth.sign(SECRET, {"email": "a@x.io"})
    h = bearer(token)
    r = client.post("/api/checkins", headers=h, content=b"{" + b" " * (64 * 1024) + b"}")
    assert r.status_code == 413
    for raw in (b"[1,2]", b"not json", b'"str"', b"{bad}", b'{"a": NaN}', b"\xff\xfe", b"[" * 60000):
        r = client.post("/api/checkins", headers={**h, "Content-Type": "application/json"}, content=raw)
        assert r.status_code == 400, raw[:20]
        assert r.json()["error"] == "Invalid JSON body"
    r = client.post("/api/checkins", headers={**h, "Content-Type": "text/plain"}, content=b'{"a":1}')
    assert r.status_code == 415


def test_v2_routes_are_503_when_flag_off(gateway_url: str) -> None:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "false"})
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        h = bearer(auth.sign(SECRET, {"email": "a@x.io"}))
        for method, path in [("GET", "/api/v2/health/timeline"), ("POST", "/api/v2/health/events")]:
            r = c.request(method, path, headers=h, json={})
            assert r.status_code == 503
            assert r.json()["error"] == "Schema V2 not available. Enable with USE_SCHEMA_V2=true"


ALLOWED = ["http://localhost:3000", "http://localhost:4200", "http://localhost:5173", "https://app.example"]
DISALLOWED = [
    "http://evil.example",
    "https://evil.example/localhost:3000",  # look-alikes of allowed origins
    "http://localhost:30000",
    "http://localhost:3000.evil.example",
    "https://app.example.evil",
    "null",
]


@pytest.mark.parametrize("origin", ALLOWED + DISALLOWED)
def test_cors_grants_credentials_to_allowed_origins_only(gateway_url: str, origin: str) -> None:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "ALLOWED_ORIGINS": "https://app.example"})
    allowed = origin in ALLOWED
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        preflight = c.options(
            "/api/checkins",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        simple = c.get("/api/health", headers={"Origin": origin})
    assert preflight.status_code == (200 if allowed else 400)
    assert simple.status_code == 200
    for r in (preflight, simple):
        cors = {k: v for k, v in r.headers.items() if k.startswith("access-control-")}
        if allowed:
            assert cors["access-control-allow-origin"] == origin
            assert cors["access-control-allow-credentials"] == "true"
        else:
            assert cors == {}, cors  # no Allow-Origin, and no Allow-Credentials: true either
        assert "origin" in r.headers.get("vary", "").lower()  # caches keep answers per origin apart


def test_openapi_lists_every_route(client: TestClient) -> None:
    from gateway.routes import ROUTES

    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path]


def test_sqlstate_map() -> None:
    assert http_status("NV400") == 400
    assert http_status("NV409") == 409
    assert http_status("NV503") == 503
    assert http_status("22P02") == 400
    assert http_status("23505") == 409
    assert http_status("57014") == 503
    assert http_status("42883") == 500


def test_database_down_is_503_with_retry_after(tmp_path) -> None:
    url = f"postgresql://postgres@/novara?host={tmp_path}"
    settings = load({"DATABASE_URL": url, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, url, SECRET)) as c:
        r = c.get("/api/users/me", headers=bearer(auth.sign(SECRET, {"email": "a@x.io"})))
        assert r.status_code == 503
        assert r.headers["retry-after"]
        assert r.json()["success"] is False


def test_read_only_routes_cannot_write(gateway_url: str) -> None:
    """The read-only call shape refuses writes whatever the function does; the normal one allows them."""
    import asyncio

    from gateway.db import LSN, CallError, Database

    async def run() -> None:
        db = Database(gateway_url, 2)
        await db.open()
        try:
            await db.call("api.signup", '{"email": "ro@example.com"}', "{}", None, read_only=False)
            claims = {"email": "ro@example.com"}
            body = '{"event_type": "note", "event_data": {"text": "x"}}'
            with pytest.raises(CallError) as err:
                await db.call("api.create_event", body, "{}", claims, read_only=True)
            assert err.value.sqlstate == "25006"  # read_only_sql_transaction
            answer = await db.call("api.create_event", body, "{}", claims, read_only=False)
            assert json.loads(answer.text or "{}")["success"] is True and answer.status is None
            assert answer.lsn and LSN.match(answer.lsn)  # a write answers with the WAL position after its commit
            # the same key again: the original event, and the status the function set (core.respond_with)
            keyed = '{"idempotency_key": "k1"}'
            first = await db.call("api.create_event", body, keyed, claims, read_only=False)
            again = await db.call("api.create_event", body, keyed, claims, read_only=False)
            assert again.text == first.text and again.status == 200
        finally:
            await db.close()

    asyncio.run(run())


def test_write_answers_carry_the_lsn_and_reads_use_the_read_pool(gateway_url: str) -> None:
    """DATABASE_READ_URL set (here the same server, standing in for a standby): a write's answer carries X-Novara-LSN;
    a STABLE route sent with it is served by the read pool (the guard passes: the server is not in recovery); a
    malformed position goes to the primary; browsers may send and read the header (CORS)."""
    from gateway.db import LSN, LSN_HEADER

    settings = load({"DATABASE_URL": gateway_url, "DATABASE_READ_URL": gateway_url, "JWT_SECRET": SECRET})
    assert settings.database_read_url == gateway_url
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        token = c.post("/api/auth/signup", json={"email": "lsn@example.com"}).json()["token"]
        h = bearer(token)
        body = {"event_type": "note", "event_data": {"text": "x"}}
        w = c.post("/api/v2/health/events", json=body, headers=h)
        assert w.status_code == 201 and LSN.match(w.headers[LSN_HEADER])
        r = c.get("/api/users/me/export", headers={**h, LSN_HEADER: w.headers[LSN_HEADER]})
        assert r.status_code == 200 and LSN_HEADER not in r.headers
        assert w.json()["event"]["id"] in {e["id"] for e in r.json()["export"]["events"]}
        assert c.get("/api/users/me", headers={**h, LSN_HEADER: "not-an-lsn"}).status_code == 200
        metrics = c.get("/metrics").text
        assert 'novara_read_calls_total{source="standby"} 1.0' in metrics
        assert 'novara_read_calls_total{source="primary"} 1.0' in metrics
        pre = c.options(
            "/api/users/me",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": LSN_HEADER,
            },
        )
        assert pre.status_code == 200
        exposed = c.get("/api/users/me", headers={**h, "Origin": "http://localhost:3000"})
        assert LSN_HEADER.lower() in exposed.headers["access-control-expose-headers"].lower()


def test_without_a_read_url_writes_carry_no_lsn(gateway_url: str) -> None:
    """No DATABASE_READ_URL: every read is the primary's, so a write skips the round trip that fetches its position."""
    from gateway.db import LSN_HEADER

    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        h = bearer(c.post("/api/auth/signup", json={"email": "nolsn@example.com"}).json()["token"])
        w = c.post("/api/v2/health/events", json={"event_type": "note", "event_data": {"text": "x"}}, headers=h)
        assert w.status_code == 201 and LSN_HEADER not in w.headers


def test_database_read_url_is_checked() -> None:
    from gateway.settings import SettingsError

    with pytest.raises(SettingsError, match="DATABASE_READ_URL must start"):
        load({"DATABASE_URL": "postgresql://x/y", "DATABASE_READ_URL": "mysql://x/y", "JWT_SECRET": SECRET})


def test_a_route_reader_answers_read_only_until_something_is_pending(gateway_url: str) -> None:
    """The routes with a reader ([read-only-first] in db/README.md): served read-only while nothing is pending; a
    V1-mode write not yet in the event log (a V1-mode instance wrote it) or a daily insight not stored yet sends the
    call to the route's own function on the primary, once."""
    from gateway.db import LSN_HEADER

    env = {"DATABASE_URL": gateway_url, "DATABASE_READ_URL": gateway_url, "JWT_SECRET": SECRET}
    v1 = load({**env, "USE_SCHEMA_V2": "false"})
    v2 = load(env)
    with TestClient(create_app(v1, gateway_url, SECRET)) as old, TestClient(create_app(v2, gateway_url, SECRET)) as c:
        profile = {"nickname": "Ann", "primary_need": "emotional_support", "cycle_stage": "stimulation"}
        token = c.post("/api/auth/signup", json={"email": "reader@example.com", **profile}).json()["token"]
        h = bearer(token)
        assert c.get("/api/v2/health/timeline", headers=h).json()["count"] == 0
        w = old.post("/api/checkins", json={"mood_today": "hopeful", "confidence_today": 8}, headers=h)
        assert w.status_code == 201
        r = c.get("/api/v2/health/timeline", headers={**h, LSN_HEADER: w.headers[LSN_HEADER]})
        assert r.json()["timeline"][0]["event_data"]["mood"] == "hopeful"
        assert LSN_HEADER in r.headers  # the import wrote: its position comes back
        assert c.get("/api/v2/health/timeline", headers=h).json()["count"] == r.json()["count"]
        first = c.get("/api/insights/daily", headers=h)
        again = c.get("/api/insights/daily", headers=h)
        assert first.status_code == again.status_code == 200 and first.json() == again.json()
        metrics = c.get("/metrics").text
        # timeline: empty (read-only), pending (writer), imported (read-only); insight: stored (writer), then read-only
        assert 'novara_read_calls_total{source="primary-writer"} 2.0' in metrics
        assert 'novara_read_calls_total{source="standby"} 3.0' in metrics
