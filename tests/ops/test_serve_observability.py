"""`novara serve --workers 2 ` with LOG_FORMAT=json: /metrics sums both workers (prometheus-client's multiprocess
mode), and every line the server writes is one JSON object, request lines with their route template and id."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from tests._http import metric_sample
from tests._serve import gateway_env, start_serve


def _get(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, resp.read().decode(), dict(resp.headers)


def test_two_workers_share_metrics_and_log_json(db_url: str, gateway_url: str) -> None:
    env = gateway_env(db_url, gateway_url, LOG_FORMAT="json")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc, base, log = start_serve(env, "--workers", "2")
    try:
        deadline = time.monotonic() + 30
        while metric_sample(_get(base + "/metrics")[1], "novara_gateway_workers") != 2:  # both workers up
            assert time.monotonic() < deadline, "the second worker never reported"
            time.sleep(0.2)
        for i in range(30):  # a new connection each: the kernel hands them to either worker
            assert _get(base + "/api/health", **{"X-Request-Id": f"probe-{i}"})[0] == 200
        # Whichever worker answers the scrape, it reports the requests both served.
        for _ in range(6):
            text = _get(base + "/metrics")[1]
            assert metric_sample(text, "novara_http_requests_total", route="/api/health", status="200") == 30, text
            assert metric_sample(text, "novara_http_request_duration_seconds_count", route="/api/health") == 30
            assert metric_sample(text, "novara_gateway_workers") == 2
            assert metric_sample(text, "novara_database_up") == 1
            assert metric_sample(text, "novara_db_pool_max_connections") == 20  # DB_POOL_MAX, shared by the 2 workers
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "message"} <= r.keys() for r in records), records[:3]
    messages = [r["message"] for r in records]
    assert "🔧 Schema V2: ENABLED" in messages
    assert any(m.startswith("Novara API listening on http://") for m in messages)
    requests = [r for r in records if r["message"] == "request" and r.get("route") == "/api/health"]
    assert len(requests) == 30, len(requests)
    assert {r["request_id"] for r in requests} == {f"probe-{i}" for i in range(30)}
    for r in requests:
        assert r["method"] == "GET" and r["status"] == 200 and isinstance(r["ms"], int | float)
    scrapes = [r for r in records if r.get("route") == "/metrics"]
    assert scrapes and all(len(r["request_id"]) == 32 for r in scrapes)  # generated when none was sent
