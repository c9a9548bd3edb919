"""The deployment guide's Phase 1-3 curl examples, verbatim, against a live `novara serve` (and its rollback).

Each example is the guide's command text (seed/schema-v2-deployment-guide.md) with the host and
YOUR_JWT_TOKEN substituted, parsed like curl would and sent with urllib. The token is minted by
`python -m novara.cli token --email …` for a user signed up first, as an operator would.
"""

from __future__ import annotations

import json
import logging
import shlex
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests._http import EVENT, ITEM, assert_shape, bearer, signup
from tests._serve import gateway_env, start_serve
from tests.conftest import SECRET, novara, novara_env

ROOT = Path(__file__).resolve().parents[2]
GUIDE_HOST = "https://your-app.railway.app"
V2_DISABLED = "Schema V2 not available. Enable with USE_SCHEMA_V2=true"

# ------------------------------------------------------------------------- the guide's commands, verbatim

# Phase 1, 3. Verify Deployment (and Rollback Plan, 2. Verify Rollback: the same command)
STATUS = """curl https://your-app.railway.app/api/v2/status \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN\""""
STATUS_EXPECTED = """{
  "success": true,
  "status": {
    "schema_v2_enabled": true,
    "database_type": "postgresql",
    "features": {
      "health_events": true,
      "event_sourcing": true,
      "enhanced_analytics": true,
      "backward_compatibility": true
    }
  }
}"""
ROLLBACK_EXPECTED = """{
  "status": {
    "schema_v2_enabled": false,
    "database_type": "postgresql"
  }
}"""

# Phase 2, 1. Test Existing API Endpoints
CREATE_CHECKIN = """curl -X POST https://your-app.railway.app/api/checkins \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "mood_today": "hopeful",
    "confidence_today": 7,
    "medication_taken": "yes"
  }'"""
LIST_CHECKINS = """curl https://your-app.railway.app/api/checkins \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN\""""

# Phase 3: 1. Health Timeline, 2. Enhanced Analytics, 3. Create Health Events
TIMELINE = """curl "https://your-app.railway.app/api/v2/health/timeline?limit=10" \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN\""""
ANALYTICS = """curl "https://your-app.railway.app/api/v2/analytics?timeframe=week" \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN\""""
CREATE_EVENT = """curl -X POST https://your-app.railway.app/api/v2/health/events \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "event_type": "mood",
    "event_subtype": "quick_check",
    "event_data": {
      "mood": "confident",
      "confidence": 9,
      "note": "Great day!"
    }
  }'"""

# Phase 2, 2. Check Logs for Schema V2 Usage: "Look for:"
LOG_LINES = ["🚀 Using Schema V2 for check-in creation", "🚀 Using Schema V2 for check-ins retrieval"]


# --------------------------------------------------------------------------------------- a tiny curl


def curl(command: str, base: str, token: str) -> tuple[int, Any]:
    """Run a guide curl command (-X, -H, -d, one URL) against `base`; (status, parsed JSON body)."""
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "curl", command
    method, data, url = None, None, None
    headers: dict[str, str] = {}
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip().replace("YOUR_JWT_TOKEN", token)
        elif arg == "-d":
            data = next(args).encode()
        else:
            assert not arg.startswith("-"), f"unsupported curl option {arg}"
            url = arg
    assert url is not None and url.startswith(GUIDE_HOST), command
    request = urllib.request.Request(
        base + url[len(GUIDE_HOST) :], data=data, headers=headers, method=method or ("POST" if data else "GET")
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/json")
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def contains(actual: Any, expected: Any) -> bool:
    """`expected` is a sub-document of `actual` (every key of every object, recursively, with equal values)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    return type(actual) is type(expected) and actual == expected


class Live:
    def __init__(self, proc: subprocess.Popen[bytes], base: str):
        self.proc, self.base, self.output = proc, base, ""


@contextmanager
def serve(db_url: str, gateway_url: str, flag: str) -> Iterator[Live]:
    """`novara serve --port 0` on the test database with USE_SCHEMA_V2=flag; all its output kept on exit."""
    proc, base, log = start_serve(gateway_env(db_url, gateway_url, USE_SCHEMA_V2=flag))
    live = Live(proc, base)
    try:
        yield live
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        live.output = log.read_text()


def operator_token(live: Live) -> tuple[str, str]:
    """Sign a user up over HTTP, then mint their token with the CLI: (user id, token)."""
    email = f"guide-{uuid.uuid4().hex[:8]}@example.com"
    status, body = post_json(live.base + "/api/auth/signup", {"email": email})
    assert status == 201, body
    r = novara("token", "--email", email, env=novara_env(JWT_SECRET=SECRET))
    assert r.returncode == 0, r.stderr
    return body["user"]["id"], r.stdout.strip()


# ------------------------------------------------------------------------------------------------ tests


def test_guide_phases_1_to_3(db_url: str, gateway_url: str) -> None:
    with serve(db_url, gateway_url, "true") as live:
        user_id, token = operator_token(live)

        # Phase 1: the status route answers the guide's expected response
        status, body = curl(STATUS, live.base, token)
        assert status == 200, body
        assert contains(body, json.loads(STATUS_EXPECTED)), body

        # Phase 2: check-ins still work
        status, created = curl(CREATE_CHECKIN, live.base, token)
        assert status == 201, created
        assert created["success"] is True and created["message"] == "Daily check-in completed successfully! 🌟"
        checkin = created["checkin"]
        assert_shape(checkin, ITEM)
        assert (checkin["mood_today"], checkin["confidence_today"], checkin["medication_taken"]) == (
            "hopeful",
            7,
            "yes",
        )
        assert checkin["user_id"] == user_id
        status, listed = curl(LIST_CHECKINS, live.base, token)
        assert status == 200, listed
        assert listed["success"] is True and listed["count"] == 1
        assert listed["checkins"] == [{k: v for k, v in checkin.items() if k != "fields"}]
        assert listed["records"] == [{"id": checkin["id"], "fields": checkin["fields"]}]

        # Phase 3: the check-in is in the timeline as its events; analytics count it; an event can be added
        status, timeline = curl(TIMELINE, live.base, token)
        assert status == 200, timeline
        assert_shape(timeline, {"success": True, "timeline": [EVENT], "count": int, "schema_version": "v2"})
        assert {e["event_type"] for e in timeline["timeline"]} == {"mood", "medication"}
        assert {e["correlation_id"] for e in timeline["timeline"]} == {checkin["id"]}
        assert timeline["count"] == len(timeline["timeline"]) == 2

        status, analytics = curl(ANALYTICS, live.base, token)
        assert status == 200, analytics
        a = analytics["analytics"]
        assert analytics["success"] is True and analytics["schema_version"] == "v2"
        assert (a["timeframe"], a["checkin_count"], a["adherence_rate"]) == ("week", 1, 100)
        assert a["event_counts"] == {"mood": 1, "medication": 1}

        status, created_event = curl(CREATE_EVENT, live.base, token)
        assert status == 201, created_event
        assert created_event["success"] is True and created_event["schema_version"] == "v2"
        event = created_event["event"]
        assert_shape(event, EVENT)
        assert (event["user_id"], event["event_type"], event["event_subtype"]) == (user_id, "mood", "quick_check")
        assert event["event_data"] == {"mood": "confident", "confidence": 9, "note": "Great day!"}

        status, timeline = curl(TIMELINE, live.base, token)
        assert status == 200 and timeline["count"] == 3
        assert timeline["timeline"][0]["id"] == event["id"]  # newest first

    assert "🔧 Schema V2: ENABLED" in live.output
    assert LOG_LINES[0] in live.output
    assert "Check-in creation error" not in live.output
    assert "Falling back to V1 approach" not in live.output


def test_guide_rollback(db_url: str, gateway_url: str) -> None:
    with serve(db_url, gateway_url, "false") as live:
        _, token = operator_token(live)
        status, body = curl(STATUS, live.base, token)
        assert status == 200, body
        assert contains(body, json.loads(ROLLBACK_EXPECTED)), body
        assert body["success"] is True
        assert body["status"]["features"] == {
            "health_events": False,
            "event_sourcing": False,
            "enhanced_analytics": False,
            "backward_compatibility": True,
        }
        for command in (TIMELINE, ANALYTICS, CREATE_EVENT):
            status, body = curl(command, live.base, token)
            assert status == 503, (command, body)
            assert body == {"success": False, "error": V2_DISABLED, "code": "SCHEMA_V2_DISABLED"}
    assert "🔧 Schema V2: DISABLED" in live.output


def test_guide_log_line_for_retrieval(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    token, _ = signup(client)
    caplog.set_level(logging.INFO, logger="novara")
    assert client.get("/api/checkins", headers=bearer(token)).status_code == 200
    assert LOG_LINES[1] in caplog.text
