"""GET /metrics (read with prometheus-client's own text parser), GET /docs (the page and every asset it loads, from
the gateway), the operational routes in /openapi.json, and X-Request-Id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gateway.app import OPERATIONAL, create_app
from gateway.docs_ui import ASSETS_DIR, as_openapi_30
from gateway.settings import load
from tests._http import bearer, signup
from tests.conftest import SECRET

UUID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scrape(client: TestClient, **headers: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """name -> [(sample name, labels, value)], parsed by prometheus_client.parser."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers["content-type"]
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        out[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return out


def value(families: dict[str, Any], sample: str, **labels: str) -> float:
    name = sample.removesuffix("_total").removesuffix("_count").removesuffix("_bucket").removesuffix("_sum")
    for found, found_labels, v in families.get(name, []):
        if found == sample and all(found_labels.get(k) == w for k, w in labels.items()):
            return v
    return 0.0


def test_metrics_count_requests_per_route_template_and_status(client: TestClient) -> None:
    token, user = signup(client)
    missing = str(uuid.uuid4())
    for _ in range(3):
        assert client.get(f"/api/checkins/{missing}", headers=bearer(token)).status_code == 404
    assert client.get("/api/users/me", headers=bearer(token)).status_code == 200
    assert client.get(f"/no/such/{user['id']}").status_code == 404
    r = client.get("/metrics")
    families = scrape(client)
    checkin = {"method": "GET", "route": "/api/checkins/{id}", "status": "404"}
    assert value(families, "novara_http_requests_total", **checkin) == 3
    assert value(families, "novara_http_request_duration_seconds_count", **checkin) == 3
    assert value(families, "novara_http_request_duration_seconds_bucket", **checkin, le="+Inf") == 3
    assert value(families, "novara_http_request_duration_seconds_sum", **checkin) > 0
    assert value(families, "novara_http_requests_total", method="GET", route="/api/users/me", status="200") == 1
    assert value(families, "novara_http_requests_total", method="GET", route="(unmatched)", status="404") == 1
    # No id, email, token or raw path anywhere in the exposition: labels are route templates.
    assert not UUID_IN_TEXT.search(r.text), UUID_IN_TEXT.search(r.text)
    assert user["email"] not in r.text and token not in r.text and "/no/such" not in r.text


def test_metrics_report_pool_database_tokens_and_build(client: TestClient) -> None:
    token, _ = signup(client)
    for _ in range(3):
        assert client.get("/api/users/me", headers=bearer(token)).status_code == 200
    families = scrape(client)
    assert value(families, "novara_database_up") == 1
    assert value(families, "novara_db_pool_connections", state="open") >= 1
    assert value(families, "novara_db_pool_connections", state="in_use") >= 0
    assert value(families, "novara_db_pool_max_connections") == 20
    assert "novara_db_pool_waiting" in families and "novara_db_pool_timeouts" in families
    # the token was verified once, then recognised from the cache
    assert value(families, "novara_token_cache_misses_total") == 1
    assert value(families, "novara_token_cache_hits_total") == 2
    (info,) = families["novara_build_info"]
    assert info[1]["use_schema_v2"] == "true" and info[1]["version"]
    assert re.fullmatch(r"\d{4}_\w+", info[1]["schema_version"]), info


def test_metrics_say_when_the_database_is_down() -> None:
    # An app pointed at no server: the scrape still answers, with the database down.
    settings = load({"DATABASE_URL": "postgresql:///nowhere?host=/nonexistent", "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, settings.database_url or "", SECRET)) as down:
        families = scrape(down)
    assert value(families, "novara_database_up") == 0
    (info,) = families["novara_build_info"]
    assert info[1]["schema_version"] == ""


def test_metrics_report_the_wal_slots_and_the_archiver(client: TestClient, postgresql: psycopg.Connection) -> None:
    """What alerts when backups fall behind: a physical slot with no consumer shows inactive, holding WAL back; the
    archiver's counters come from pg_stat_archiver. The slot name is the only label (no user data)."""
    slot = f"novara_test_{uuid.uuid4().hex[:8]}"
    postgresql.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))
    postgresql.commit()
    try:
        postgresql.execute("SELECT pg_switch_wal()")  # the slot now holds back at least the segment it started in
        postgresql.commit()
        families = scrape(client)
        (failed,) = postgresql.execute("SELECT failed_count FROM pg_stat_archiver").fetchone() or (None,)
    finally:
        postgresql.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        postgresql.commit()
    assert value(families, "novara_replication_slot_active", slot=slot) == 0
    assert ("novara_replication_slot_active", {"slot": slot}, 0.0) in families["novara_replication_slot_active"]
    assert value(families, "novara_replication_slot_retained_bytes", slot=slot) > 0
    assert value(families, "novara_wal_archiver_failed") == failed
    assert value(families, "novara_wal_archiver_failing") in (0.0, 1.0)
    assert "novara_wal_archiver_archived" in families
    # gone with the slot
    assert slot not in client.get("/metrics").text


@pytest.fixture
def guarded(gateway_url: str) -> Iterator[TestClient]:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "METRICS_TOKEN": "scrape-me-" + "s" * 20})
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        yield c


def test_metrics_token_is_required_when_set(guarded: TestClient) -> None:
    r = guarded.get("/metrics")
    assert r.status_code == 401 and r.json()["code"] == "METRICS_TOKEN_REQUIRED", r.text
    assert r.headers["www-authenticate"] == "Bearer"
    r = guarded.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["code"] == "INVALID_METRICS_TOKEN", r.text
    assert value(scrape(guarded, Authorization="Bearer scrape-me-" + "s" * 20), "novara_database_up") == 1
    # the other routes do not want it
    assert guarded.get("/api/health").status_code == 200


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = not found.get("src")
        url = found.get("src") or (found.get("href") if tag == "link" else None)
        if url:
            self.urls.append(url)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


def test_docs_page_loads_every_asset_from_the_gateway(client: TestClient) -> None:
    root = client.get("/").json()
    assert root["endpoints"]["docs"] == "/docs" and root["endpoints"]["metrics"] == "/metrics"
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = _Assets()
    page.feed(r.text)
    assert len(page.urls) >= 3, page.urls
    for url in page.urls:
        assert not url.startswith(("http:", "https:", "//")), f"asset from elsewhere: {url}"
        asset = client.get("/" + url)
        assert asset.status_code == 200, url
        assert asset.content == (ASSETS_DIR / url.rsplit("/", 1)[1]).read_bytes(), url
    (script,) = page.inline
    assert "https://" not in script and "http://" not in script
    spec_url = re.search(r'url:\s*"([^"]+)"', script)
    assert spec_url, script
    spec = client.get("/" + spec_url.group(1))
    assert spec.status_code == 200
    assert spec.json()["openapi"].startswith("3.0."), "Swagger UI 4 renders OpenAPI 3.0 only"
    assert "swagger-ui-bundle.js" in " ".join(page.urls)
    # only the page's files are served from the package folder
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2Fswagger-initializer.js").status_code == 404


def test_openapi_lists_the_operational_routes(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for method, path, _handler in OPERATIONAL:
        op = doc["paths"].get(path, {}).get(method.lower())
        assert op and op["description"], f"{method} {path} missing from /openapi.json"
    assert {p for _m, p, _h in OPERATIONAL} >= {"/", "/api/health", "/api/health/detailed", "/metrics", "/docs"}
    assert "text/plain" in doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]


def _types(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        if "type" in node and not isinstance(node["type"], dict):
            yield node["type"]
        for v in node.values():
            yield from _types(v)
    elif isinstance(node, list):
        for v in node:
            yield from _types(v)


def test_the_docs_rendition_says_the_same_in_openapi_30(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    old = client.get("/docs/openapi-3.0.json").json()
    assert old == as_openapi_30(doc)
    assert old["paths"].keys() == doc["paths"].keys()
    assert all(isinstance(t, str) for t in _types(old)), "3.0 has one type name per schema"
    assert '"const"' not in str(old).replace("'", '"')
    nickname = old["paths"]["/api/users/me"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert nickname["properties"]["nickname"] == {"type": "string", "nullable": True, "maxLength": 50}


def test_request_id_is_honoured_or_generated(client: TestClient) -> None:
    r = client.get("/api/health", headers={"X-Request-Id": "trace-abc.123"})
    assert r.headers["x-request-id"] == "trace-abc.123"
    generated = client.get("/api/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/api/health").headers["x-request-id"] != generated
    # an id that is not a plain token (spaces, too long) is replaced, not echoed
    assert client.get("/api/health", headers={"X-Request-Id": "a b"}).headers["x-request-id"] != "a b"
    assert len(client.get("/api/health", headers={"X-Request-Id": "x" * 500}).headers["x-request-id"]) == 32
    # errors carry it too
    assert client.get("/nowhere").headers["x-request-id"]
