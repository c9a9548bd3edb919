"""The contract's routes end to end: real app, real database, real functions."""

from __future__ import annotations

import logging
import uuid

import pytest
from starlette.testclient import TestClient

from gateway import auth
from tests.conftest import SECRET


def signup(client: TestClient, email: str | None = None, **fields: object) -> tuple[str, dict]:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post("/api/auth/signup", json={"email": email, **fields})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["token"], body["user"]


def h(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def test_accounts(client: TestClient) -> None:
    token, user = signup(client, " Ann@Example.COM ", nickname="Ann", timezone="Europe/Paris")
    assert user["email"] == "ann@example.com"
    claims = auth.verify(SECRET, f"Bearer {token}")
    assert claims["id"] == user["id"] and claims["email"] == "ann@example.com"
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert client.post("/api/users", json={"email": "ANN@example.com"}).status_code == 409
    assert client.post("/api/users", json={}).json()["error"] == "Email is required"
    assert client.post("/api/users", json={"email": "nope"}).json()["error"] == "Invalid email format"
    r = client.post("/api/auth/login", json={"email": "ann@example.com"})
    assert r.status_code == 200 and r.json()["userExists"] is True and r.json()["token"]
    r = client.post("/api/auth/login", json={"email": "who@example.com"})
    assert r.status_code == 404 and r.json()["error"] == "User not found. Please sign up first."
    me = client.get("/api/users/me", headers=h(token)).json()
    assert me["user"]["timezone"] == "Europe/Paris"
    r = client.put("/api/users/me", headers=h(token), json={"nickname": "Annie", "email": "x@y.z"})
    assert r.json()["user"]["nickname"] == "Annie" and r.json()["user"]["email"] == "ann@example.com"
    r = client.patch("/api/users/cycle-stage", headers=h(token), json={"cycle_stage": "stimulation"})
    assert r.json()["derived_medication_status"] == "taking"
    # a valid token for a user that does not exist
    ghost = auth.sign(SECRET, {"email": "ghost@example.com"})
    r = client.get("/api/users/me", headers=h(ghost))
    assert r.status_code == 404 and r.json()["error"] == "User not found"


def test_checkins_v1_routes(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    token, user = signup(client)
    caplog.set_level(logging.INFO, logger="novara")
    payload = {
        "mood_today": "hopeful, anxious",
        "confidence_today": "7",
        "medication_taken": "yes",
        "user_note": "line one\nline two",
        "side_effects": ["bloating"],
        "phq4_feeling_nervous": 1,
        "phq4_stop_worrying": 2,
        "phq4_little_interest": 0,
        "phq4_feeling_down": 1,
        "user_id": str(uuid.uuid4()),
        "my_extra": {"nested": [1, 2]},
    }
    r = client.post("/api/checkins", headers=h(token), json=payload)
    assert r.status_code == 201, r.text
    checkin = r.json()["checkin"]
    assert checkin["user_id"] == user["id"]
    assert checkin["confidence_today"] == 7
    assert checkin["user_note"] == "line one\nline two"
    assert checkin["phq4_score"] == 4
    assert checkin["my_extra"] == {"nested": [1, 2]}
    assert checkin["fields"]["mood_today"] == "hopeful, anxious"
    assert "🚀 Using Schema V2 for check-in creation" in caplog.text

    r = client.post("/api/checkins", headers=h(token), json=payload)
    assert r.status_code == 409
    assert r.json()["existing_checkin"]["id"] == checkin["id"]
    r = client.post("/api/checkins", headers=h(token), json={"mood_today": "ok"})
    assert r.status_code == 400
    assert r.json()["error"] == "Missing required fields: mood_today and confidence_today are required"
    r = client.post("/api/checkins", headers=h(token), json={"mood_today": "ok", "confidence_today": 11})
    assert r.json()["error"] == "confidence_today must be between 1 and 10"

    listing = client.get("/api/checkins", headers=h(token)).json()
    assert listing["count"] == 1 and listing["checkins"] == [{k: v for k, v in checkin.items() if k != "fields"}]
    assert listing["records"] == [{"id": checkin["id"], "fields": checkin["fields"]}]
    today = client.get("/api/checkins/today", headers=h(token)).json()
    assert today["hasCheckedIn"] is True and today["checkin"]["id"] == checkin["id"]
    last = client.get("/api/checkins/last-values", headers=h(token)).json()
    assert last["hasValues"] is True and last["last_values"] == last["lastValues"]
    assert client.get(f"/api/checkins/{checkin['id']}", headers=h(token)).json()["checkin"]["id"] == checkin["id"]

    r = client.put(f"/api/checkins/{checkin['id']}", headers=h(token), json={"confidence_today": 9})
    assert r.status_code == 200 and r.json()["message"] == "Check-in updated successfully! 🌟"
    assert r.json()["checkin"]["confidence_today"] == 9
    assert r.json()["checkin"]["user_note"] == "line one\nline two"

    other, _ = signup(client)
    assert client.get(f"/api/checkins/{checkin['id']}", headers=h(other)).status_code == 404
    assert (
        client.put(f"/api/checkins/{checkin['id']}", headers=h(other), json={"confidence_today": 1}).status_code == 404
    )
    assert client.delete(f"/api/checkins/{checkin['id']}", headers=h(other)).status_code == 404
    assert client.get("/api/checkins/not-a-uuid", headers=h(token)).status_code == 404

    r = client.delete(f"/api/checkins/{checkin['id']}", headers=h(token))
    assert r.status_code == 200 and r.json()["message"] == "Check-in deleted successfully"
    assert client.get("/api/checkins", headers=h(token)).json()["count"] == 0
    assert client.post("/api/daily-checkin-enhanced", headers=h(token), json=payload).status_code == 201


def test_v2_routes(client: TestClient) -> None:
    token, user = signup(client)
    r = client.post("/api/checkins", headers=h(token), json={"mood_today": "hopeful", "confidence_today": 7})
    checkin_id = r.json()["checkin"]["id"]
    event = {"event_type": "mood", "event_subtype": "quick_check", "event_data": {"mood": "confident", "confidence": 9}}
    first = client.post("/api/v2/health/events", headers=h(token, **{"Idempotency-Key": "k1"}), json=event)
    assert first.status_code == 201, first.text
    assert first.json()["schema_version"] == "v2"
    again = client.post("/api/v2/health/events", headers=h(token, **{"Idempotency-Key": "k1"}), json=event)
    assert again.status_code == 200 and again.json()["event"]["id"] == first.json()["event"]["id"]
    other = {**event, "event_data": {"mood": "tired"}}
    assert (
        client.post("/api/v2/health/events", headers=h(token, **{"Idempotency-Key": "k1"}), json=other).status_code
        == 409
    )
    bad = client.post("/api/v2/health/events", headers=h(token), json={"event_type": "nope", "event_data": {}})
    assert bad.status_code == 400

    timeline = client.get("/api/v2/health/timeline?limit=10", headers=h(token)).json()
    assert timeline["count"] == len(timeline["timeline"]) >= 2
    assert checkin_id in {e["correlation_id"] for e in timeline["timeline"]}
    summary = client.get("/api/v2/health/daily-summary", headers=h(token)).json()["summary"]
    assert summary["check_in_completed"] is True and summary["user_id"] == user["id"]
    analytics = client.get("/api/v2/analytics?timeframe=month", headers=h(token)).json()["analytics"]
    assert analytics["timeframe"] == "month" and analytics["checkin_count"] == 1
    assert client.get("/api/v2/analytics?timeframe=decade", headers=h(token)).status_code == 400
    status = client.get("/api/v2/status").json()["status"]
    assert status["schema_v2_enabled"] is True and status["features"]["backward_compatibility"] is True
