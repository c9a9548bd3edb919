"""Every route of gateway.routes.ROUTES over HTTP (real app, real database): the happy path's status and body
shape (docs/api.md), and the documented errors — 400 with a code, 401, 403, 404 (unknown user,
another user's id, malformed id), 409, 413, invalid JSON — plus the invariants: a body's user_id is ignored,
every error body is {success:false, error, code}, and no input yields a 5xx.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from gateway import auth
from gateway.app import create_app
from gateway.routes import ROUTES, Route
from gateway.settings import load
from tests._http import (
    DATE,
    EVENT,
    ISO,
    ITEM,
    NUMBER,
    USER,
    assert_error,
    assert_item,
    assert_listing,
    assert_shape,
    bearer,
    new_email,
    opt,
    same,
    signup,
)
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
LATEST_MIGRATION = max(p.stem for p in (ROOT / "db" / "schema").glob("[0-9]*.sql"))
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
AUTH_ROUTES = [r for r in ROUTES if r.auth == "required"]
BODY_ROUTES = [r for r in ROUTES if r.method in BODY_METHODS]
V2_DISABLED = "Schema V2 not available. Enable with USE_SCHEMA_V2=true"
CHECKIN_MESSAGE = "Daily check-in completed successfully! 🌟"
POSITIVE_MESSAGE = "Daily check-in completed successfully! 🌟 We love your positive energy today! 🎉"
DUPLICATE_MESSAGE = "You have already submitted a check-in for today. Please try again tomorrow."
MISSING_FIELDS = "Missing required fields: mood_today and confidence_today are required"
DERIVED = {
    "considering": "not_taking",
    "ivf_prep": "starting_soon",
    "stimulation": "taking",
    "retrieval": "taking",
    "transfer": "taking",
    "tww": "taking",
    "pregnant": "pregnancy_support",
    "between_cycles": "between_cycles",
}
MEDICATION_STATUSES = [
    "taking",
    "starting_soon",
    "not_taking",
    "between_cycles",
    "finished_treatment",
    "pregnancy_support",
]


def rid(route: Route) -> str:
    return f"{route.method} {route.path}"


def today_in(tz: str = "America/Los_Angeles") -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def days_ago(n: int, tz: str = "America/Los_Angeles") -> str:
    return (today_in(tz) - dt.timedelta(days=n)).isoformat()


def iso_hours_ago(hours: float, offset_hours: int = 0) -> str:
    tz = dt.timezone(dt.timedelta(hours=offset_hours))
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).astimezone(tz).isoformat(timespec="milliseconds")


def post_checkin(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"mood_today": "hopeful", "confidence_today": 7, **fields}
    r = client.post("/api/checkins", headers=bearer(token), json=body)
    assert r.status_code == 201, r.text
    return r.json()["checkin"]


def post_event(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"event_type": "mood", "event_data": {"mood": "hopeful"}, **fields}
    r = client.post("/api/v2/health/events", headers=bearer(token), json=body)
    assert r.status_code == 201, r.text
    return r.json()["event"]


# The routes that have a happy-path test below (checked against the route table at the end of this section).
COVERED: set[str] = set()


def covers(*routes: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        COVERED.update(routes)
        return fn

    return mark


@contextmanager
def about(label: str) -> Iterator[None]:
    """Prefix a failed assertion's message with `label` (which route, which input)."""
    try:
        yield
    except AssertionError as err:
        raise AssertionError(f"{label}: {err}") from err


def assert_success(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["success"] is True, body
    return body


# ================================================================================================ happy paths

STATUS = {
    "success": True,
    "status": {
        "schema_v2_enabled": True,
        "database_type": "postgresql",
        "features": {"health_events": True, "event_sourcing": True, "enhanced_analytics": True},
        "endpoints_available": [str],
        "schema_version": LATEST_MIGRATION,
        "metrics_refreshed_at": opt(ISO),
    },
}


@covers("GET /api/v2/status")
@pytest.mark.parametrize("token", ["none", "user", "unknown-user"])
def test_status(client: TestClient, token: str) -> None:
    headers = {}
    if token == "user":
        headers = bearer(signup(client)[0])
    elif token == "unknown-user":  # the token is optional: a valid one naming nobody is still fine here
        headers = bearer(auth.sign(SECRET, {"email": "nobody@example.com"}))
    body = assert_success(client.get("/api/v2/status", headers=headers))
    assert_shape(body, STATUS)
    assert body["status"]["features"]["backward_compatibility"] is True
    v2_routes = {rid(r) for r in ROUTES if r.v2_only} | {"GET /api/v2/status"}
    assert set(body["status"]["endpoints_available"]) == v2_routes


SIGNUP_PROFILE = {
    "nickname": "Zoë",
    "timezone": "Pacific/Kiritimati",
    "email_opt_in": False,
    "confidence_meds": 2,
    "confidence_costs": 3,
    "confidence_overall": 9,
    "primary_need": "medical_clarity",
    "cycle_stage": "stimulation",
    "top_concern": "cost of meds",
    "medication_status": "taking",
    "onboarding_path": "control",
}


@covers("POST /api/users", "POST /api/auth/signup")
@pytest.mark.parametrize("path", ["/api/users", "/api/auth/signup"])
def test_signup_stores_every_profile_field(client: TestClient, path: str) -> None:
    email = new_email()
    body = assert_success(client.post(path, json={"email": f"  {email.upper()} ", **SIGNUP_PROFILE}), 201)
    assert_shape(body, {"success": True, "token": str, "user": USER})
    user = body["user"]
    assert user["email"] == email
    for key, value in SIGNUP_PROFILE.items():
        assert same(user[key], value), key
    assert user["baseline_completed"] is True  # nickname, primary_need, cycle_stage and the confidences are set
    claims = auth.verify(SECRET, f"Bearer {body['token']}")
    assert (claims["id"], claims["email"], claims["nickname"]) == (user["id"], email, "Zoë")
    me = assert_success(client.get("/api/users/me", headers=bearer(body["token"])))
    assert me["user"] == user


@pytest.mark.parametrize("path", ["/api/users", "/api/auth/signup"])
def test_signup_defaults(client: TestClient, path: str) -> None:
    body = assert_success(client.post(path, json={"email": new_email()}), 201)
    user = body["user"]
    assert_shape(user, USER)
    assert (user["confidence_meds"], user["confidence_costs"], user["confidence_overall"]) == (5, 5, 5)
    assert user["timezone"] == "America/Los_Angeles"
    assert user["email_opt_in"] is True
    assert user["baseline_completed"] is False
    for key in ("nickname", "primary_need", "cycle_stage", "top_concern", "medication_status", "onboarding_path"):
        assert user[key] is None, key


@covers("POST /api/auth/login")
def test_login(client: TestClient) -> None:
    email = new_email()
    _, user = signup(client, email, nickname="Ann")
    body = assert_success(client.post("/api/auth/login", json={"email": f" {email.upper()} "}))
    assert_shape(body, {"success": True, "token": str, "user": USER, "userExists": True})
    assert body["user"] == user
    claims = auth.verify(SECRET, f"Bearer {body['token']}")
    assert (claims["id"], claims["email"], claims["nickname"]) == (user["id"], email, "Ann")
    assert assert_success(client.get("/api/users/me", headers=bearer(body["token"])))["user"]["id"] == user["id"]


@covers("PUT /api/users/password")
def test_change_password(client: TestClient) -> None:
    token, user = signup(client)
    r = client.put("/api/users/password", headers=bearer(token), json={"new_password": "a long passphrase"})
    assert_shape(assert_success(r), {"success": True, "message": "Password set successfully", "password_set_at": ISO})
    login = {"email": user["email"], "password": "a long passphrase"}
    assert assert_success(client.post("/api/auth/login", json=login))["user"] == user


@covers("GET /api/users/me")
def test_me(client: TestClient) -> None:
    token, user = signup(client, nickname="Bo", timezone="Europe/Paris")
    body = assert_success(client.get("/api/users/me", headers=bearer(token)))
    assert_shape(body, {"success": True, "user": USER})
    assert body["user"] == user


@covers("GET /api/users/me/export")
def test_export_me(client: TestClient) -> None:
    token, user = signup(client, nickname="Bo")
    event = {"event_type": "sleep", "event_data": {"hours": 8}}
    assert client.post("/api/v2/health/events", headers=bearer(token), json=event).status_code == 201
    body = assert_success(client.get("/api/users/me/export", headers=bearer(token)))
    assert_shape(
        body,
        {
            "success": True,
            "export": {
                "user": USER,
                "profile": dict,
                "checkins": list,
                "events": [EVENT],
                "insights": list,
                "engagement": list,
                "generated_at": ISO,
            },
        },
    )
    assert body["export"]["user"] == user and body["export"]["events"][0]["event_data"] == {"hours": 8}
    # (the round trip with erasure, the whole history and the 3-year timing: tests/http/test_export.py)


@covers("PUT /api/users/me")
def test_update_me_changes_every_profile_field_but_email(client: TestClient) -> None:
    token, user = signup(client)
    changes = {**SIGNUP_PROFILE, "timezone": "Asia/Tokyo", "baseline_completed": False}
    r = client.put("/api/users/me", headers=bearer(token), json={**changes, "email": "other@example.com"})
    body = assert_success(r)
    assert_shape(body, {"success": True, "user": USER, "message": "Profile updated successfully"})
    for key, value in changes.items():
        assert same(body["user"][key], value), key
    assert body["user"]["email"] == user["email"]
    assert body["user"]["id"] == user["id"] and body["user"]["created_at"] == user["created_at"]
    assert assert_success(client.get("/api/users/me", headers=bearer(token)))["user"] == body["user"]


@covers("GET /api/users/profile")
def test_profile_is_flat(client: TestClient) -> None:
    token, user = signup(client, **SIGNUP_PROFILE)
    body = assert_success(client.get("/api/users/profile", headers=bearer(token)))
    assert_shape(body, {**USER, "success": True})
    assert {k: body[k] for k in user} == user
    assert ISO(body["cycle_stage_updated"])  # the stage was set at signup
    assert ISO(body["medication_status_updated"])


@covers("PATCH /api/users/baseline")
def test_baseline(client: TestClient) -> None:
    token, _ = signup(client)
    baseline = {
        "nickname": "Cy",
        "confidence_meds": 4,
        "confidence_costs": 6,
        "confidence_overall": 8,
        "top_concern": "timing",
    }
    body = assert_success(client.patch("/api/users/baseline", headers=bearer(token), json=baseline))
    assert_shape(body, {"success": True, "message": str, "user": USER})
    for key, value in baseline.items():
        assert same(body["user"][key], value), key
    assert body["user"]["baseline_completed"] is True
    assert assert_success(client.get("/api/users/me", headers=bearer(token)))["user"] == body["user"]


@covers("POST /api/users/complete-onboarding")
def test_complete_onboarding(client: TestClient) -> None:
    """The web app's scripts send it with a token and no body; the original answer, and the gate opens."""
    token, user = signup(client, onboarding_path="test", baseline_completed=False)
    assert user["baseline_completed"] is False
    assert client.get("/api/insights/daily", headers=bearer(token)).status_code == 403
    r = client.post("/api/users/complete-onboarding", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "message": "Onboarding completed successfully"}
    me = assert_success(client.get("/api/users/me", headers=bearer(token)))["user"]
    assert me["baseline_completed"] is True
    assert {k: v for k, v in me.items() if k != "baseline_completed"} == {
        k: v for k, v in user.items() if k != "baseline_completed"
    }, "nothing else changes"
    assert_success(client.get("/api/insights/daily", headers=bearer(token)))
    again = client.post("/api/users/complete-onboarding", headers=bearer(token), json={"baseline_completed": False})
    assert again.json() == r.json(), "a body changes nothing"
    assert assert_success(client.get("/api/users/me", headers=bearer(token)))["user"]["baseline_completed"] is True


@covers("PATCH /api/users/cycle-stage")
def test_cycle_stage_derives_medication_status(client: TestClient) -> None:
    token, _ = signup(client)
    for stage, derived in DERIVED.items():
        r = client.patch("/api/users/cycle-stage", headers=bearer(token), json={"cycle_stage": stage})
        body = assert_success(r)
        assert_shape(
            body,
            {
                "success": True,
                "message": str,
                "cycle_stage": stage,
                "derived_medication_status": derived,
                "cycle_stage_updated": ISO,
            },
        )
        user = assert_success(client.get("/api/users/me", headers=bearer(token)))["user"]
        assert (user["cycle_stage"], user["medication_status"]) == (stage, derived)


@covers("PATCH /api/users/medication-status")
def test_medication_status(client: TestClient) -> None:
    token, _ = signup(client)
    for status in MEDICATION_STATUSES:
        r = client.patch("/api/users/medication-status", headers=bearer(token), json={"medication_status": status})
        body = assert_success(r)
        assert_shape(
            body,
            {"success": True, "message": str, "medication_status": status, "medication_status_updated": ISO},
        )
        assert assert_success(client.get("/api/users/me", headers=bearer(token)))["user"]["medication_status"] == status


@covers("POST /api/checkins")
@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_create_checkin(client: TestClient, tz: str) -> None:
    token, user = signup(client, timezone=tz)
    r = client.post("/api/checkins", headers=bearer(token), json={"mood_today": "hopeful", "confidence_today": 7})
    body = assert_success(r, 201)
    assert_shape(body, {"success": True, "checkin": ITEM, "message": CHECKIN_MESSAGE})
    assert "sentiment_analysis" not in body
    checkin = body["checkin"]
    assert_item(checkin)
    assert checkin["user_id"] == user["id"]
    assert checkin["date_submitted"] == today_in(tz).isoformat()  # the user's local today
    assert checkin["medication_taken"] == "not tracked"
    assert checkin["checkin_type"] == "standard"
    # read back from the database: what GET returns is what POST returned
    got = assert_success(client.get(f"/api/checkins/{checkin['id']}", headers=bearer(token)))["checkin"]
    assert same(got, checkin)


@pytest.mark.parametrize("path", ["/api/checkins", "/api/daily-checkin-enhanced"])
def test_create_checkin_positive_sentiment(client: TestClient, path: str) -> None:
    token, _ = signup(client)
    sentiment = {"sentiment": "positive", "confidence": 0.92}
    body = {"mood_today": "excited", "confidence_today": 9, "sentiment_analysis": sentiment}
    out = assert_success(client.post(path, headers=bearer(token), json=body), 201)
    assert out["message"] == POSITIVE_MESSAGE
    assert out["sentiment_analysis"] == {"sentiment": "positive", "confidence": 0.92, "celebration_triggered": True}
    assert same(out["checkin"]["sentiment_analysis"], sentiment)


@covers("GET /api/checkins")
def test_list_checkins_newest_first(client: TestClient) -> None:
    token, user = signup(client)
    ids = {n: post_checkin(client, token, date_submitted=days_ago(n), mood_today=f"day {n}")["id"] for n in (1, 5, 3)}
    body = assert_success(client.get("/api/checkins", headers=bearer(token)))
    rows = assert_listing(body)
    assert body["count"] == 3
    assert [c["id"] for c in rows] == [ids[1], ids[3], ids[5]]
    for row in rows:
        assert row["user_id"] == user["id"]
        single = assert_success(client.get(f"/api/checkins/{row['id']}", headers=bearer(token)))["checkin"]
        assert same({k: v for k, v in single.items() if k != "fields"}, row), "the list's row is the check-in's"
    page = assert_success(client.get("/api/checkins?limit=2", headers=bearer(token)))
    assert page["count"] == 2 and [c["id"] for c in page["checkins"]] == [ids[1], ids[3]]
    # a correction does not add a row: exactly one row per live check-in
    client.put(f"/api/checkins/{ids[5]}", headers=bearer(token), json={"confidence_today": 2})
    after = assert_success(client.get("/api/checkins", headers=bearer(token)))
    assert after["count"] == 3 and [c["id"] for c in after["records"]].count(ids[5]) == 1


def test_list_checkins_default_limit_is_30(client: TestClient) -> None:
    token, _ = signup(client)
    for n in range(31):
        post_checkin(client, token, date_submitted=days_ago(n + 1))
    body = assert_success(client.get("/api/checkins", headers=bearer(token)))
    assert body["count"] == 30 and len(assert_listing(body)) == 30
    assert body["checkins"][-1]["date_submitted"] == days_ago(30)
    assert assert_success(client.get("/api/checkins?limit=100", headers=bearer(token)))["count"] == 31


@covers("GET /api/checkins/today")
@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_today(client: TestClient, tz: str) -> None:
    token, _ = signup(client, timezone=tz)
    today = today_in(tz).isoformat()
    body = assert_success(client.get("/api/checkins/today", headers=bearer(token)))
    assert body == {"success": True, "hasCheckedIn": False, "checkin": None, "date": today}
    post_checkin(client, token, date_submitted=days_ago(1, tz))
    assert assert_success(client.get("/api/checkins/today", headers=bearer(token)))["hasCheckedIn"] is False
    created = post_checkin(client, token)
    body = assert_success(client.get("/api/checkins/today", headers=bearer(token)))
    assert_shape(body, {"success": True, "hasCheckedIn": True, "checkin": ITEM, "date": today})
    assert same(body["checkin"], created)


@covers("GET /api/checkins/last-values")
def test_last_values(client: TestClient) -> None:
    token, _ = signup(client)
    body = assert_success(client.get("/api/checkins/last-values", headers=bearer(token)))
    assert_shape(body, {"success": True, "hasValues": False, "last_values": None, "lastValues": None, "message": str})
    post_checkin(client, token, date_submitted=days_ago(7), mood_today="tired", anxiety_level=8)
    latest = post_checkin(client, token, date_submitted=days_ago(3), mood_today="calm", anxiety_level=4)
    body = assert_success(client.get("/api/checkins/last-values", headers=bearer(token)))
    assert_shape(body, {"success": True, "hasValues": True, "last_values": dict, "lastValues": dict, "message": str})
    assert body["last_values"] == body["lastValues"]
    values = body["last_values"]
    assert values["last_checkin_date"] == days_ago(3)
    assert values["days_since_last_checkin"] == 3
    assert (values["id"], values["mood_today"], values["anxiety_level"]) == (latest["id"], "calm", 4)


@covers("GET /api/checkins/{id}")
def test_get_checkin(client: TestClient) -> None:
    token, _ = signup(client)
    created = post_checkin(client, token, user_note="a note", side_effects=["headache"])
    body = assert_success(client.get(f"/api/checkins/{created['id']}", headers=bearer(token)))
    assert_shape(body, {"success": True, "checkin": ITEM})
    assert_item(body["checkin"])
    assert same(body["checkin"], created)
    # ids are case-insensitive UUIDs
    upper = assert_success(client.get(f"/api/checkins/{created['id'].upper()}", headers=bearer(token)))
    assert upper["checkin"]["id"] == created["id"]


@covers("PUT /api/checkins/{id}")
def test_update_checkin_is_partial(client: TestClient) -> None:
    token, _ = signup(client)
    created = post_checkin(client, token, anxiety_level=3, user_note="keep me", date_submitted=days_ago(2))
    r = client.put(
        f"/api/checkins/{created['id']}",
        headers=bearer(token),
        json={"confidence_today": "8", "side_effects": ["bloating"], "date_submitted": days_ago(4)},
    )
    body = assert_success(r)
    assert_shape(body, {"success": True, "checkin": ITEM, "message": "Check-in updated successfully! 🌟"})
    item = body["checkin"]
    assert_item(item)
    assert (item["id"], item["created_at"]) == (created["id"], created["created_at"])
    assert item["confidence_today"] == 8 and item["side_effects"] == ["bloating"]
    assert item["anxiety_level"] == 3 and item["user_note"] == "keep me" and item["mood_today"] == "hopeful"
    assert item["date_submitted"] == days_ago(4)
    assert item["updated_at"] >= created["updated_at"]
    assert same(assert_success(client.get(f"/api/checkins/{created['id']}", headers=bearer(token)))["checkin"], item)
    # the old date is free again
    post_checkin(client, token, date_submitted=days_ago(2))


@covers("DELETE /api/checkins/{id}")
def test_delete_checkin_frees_the_date(client: TestClient) -> None:
    token, _ = signup(client)
    created = post_checkin(client, token)
    body = assert_success(client.delete(f"/api/checkins/{created['id']}", headers=bearer(token)))
    assert body == {"success": True, "message": "Check-in deleted successfully"}
    assert_error(client.get(f"/api/checkins/{created['id']}", headers=bearer(token)), 404, "Check-in not found")
    assert assert_success(client.get("/api/checkins", headers=bearer(token)))["count"] == 0
    assert assert_success(client.get("/api/checkins/today", headers=bearer(token)))["hasCheckedIn"] is False
    again = post_checkin(client, token)
    assert again["id"] != created["id"]


@covers("POST /api/daily-checkin-enhanced")
def test_enhanced_checkin(client: TestClient) -> None:
    token, user = signup(client)
    body = {"mood_today": "grateful", "confidence_today": 6, "checkin_type": "standard", "anxiety_level": 2}
    out = assert_success(client.post("/api/daily-checkin-enhanced", headers=bearer(token), json=body), 201)
    assert_shape(out, {"success": True, "checkin": ITEM, "message": CHECKIN_MESSAGE})
    assert_item(out["checkin"])
    assert out["checkin"]["checkin_type"] == "enhanced"
    assert (out["checkin"]["user_id"], out["checkin"]["anxiety_level"]) == (user["id"], 2)
    listed = assert_success(client.get("/api/checkins", headers=bearer(token)))["records"]
    assert [c["id"] for c in listed] == [out["checkin"]["id"]]


@covers("POST /api/v2/health/events")
def test_create_event(client: TestClient) -> None:
    token, user = signup(client, timezone="Asia/Tokyo")
    occurred = iso_hours_ago(5, offset_hours=2)
    correlation = str(uuid.uuid4())
    body = {
        "event_type": "medication",
        "event_subtype": "evening_dose",
        "event_data": {"status": "taken", "medication": "Gonal-F", "dose_iu": 150},
        "occurred_at": occurred,
        "correlation_id": correlation,
    }
    out = assert_success(client.post("/api/v2/health/events", headers=bearer(token), json=body), 201)
    assert_shape(out, {"success": True, "event": EVENT, "schema_version": "v2"})
    event = out["event"]
    assert event["user_id"] == user["id"]
    assert (event["event_type"], event["event_subtype"]) == ("medication", "evening_dose")
    assert event["event_data"] == body["event_data"]
    assert dt.datetime.fromisoformat(event["occurred_at"]) == dt.datetime.fromisoformat(occurred)
    local = dt.datetime.fromisoformat(occurred).astimezone(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert event["local_date"] == local
    assert event["correlation_id"] == correlation and event["related_event_id"] is None
    # occurred_at defaults to now; related_event_id names one of the caller's events
    follow = post_event(client, token, related_event_id=event["id"])
    assert follow["related_event_id"] == event["id"]
    now = dt.datetime.now(dt.UTC)
    assert abs((dt.datetime.fromisoformat(follow["occurred_at"]) - now).total_seconds()) < 60


@covers("GET /api/v2/health/timeline")
def test_timeline_pages_newest_first(client: TestClient) -> None:
    token, user = signup(client)
    ids = [post_event(client, token, occurred_at=iso_hours_ago(h))["id"] for h in (30, 10, 50, 20, 40)]
    post_event(client, token, event_type="medication", event_data={"status": "missed"}, occurred_at=iso_hours_ago(60))
    old = post_event(client, token, occurred_at=iso_hours_ago(24 * 45))["id"]  # outside the default 30 days
    newest_first = [ids[1], ids[3], ids[0], ids[4], ids[2]]

    seen: list[str] = []
    before = None
    while True:
        query = "event_types=mood&limit=2" + (f"&before={before}" if before else "")
        body = assert_success(client.get(f"/api/v2/health/timeline?{query}", headers=bearer(token)))
        assert_shape(
            body,
            {"success": True, "timeline": [EVENT], "count": int, "next_before": (str, None), "schema_version": "v2"},
        )
        assert body["count"] == len(body["timeline"]) <= 2
        assert all(e["user_id"] == user["id"] and e["event_type"] == "mood" for e in body["timeline"])
        seen += [e["id"] for e in body["timeline"]]
        before = body["next_before"]
        if before is None:
            break
    assert seen == newest_first

    everything = assert_success(client.get("/api/v2/health/timeline", headers=bearer(token)))
    assert everything["count"] == 6 and old not in {e["id"] for e in everything["timeline"]}
    occurred = [e["occurred_at"] for e in everything["timeline"]]
    assert occurred == sorted(occurred, reverse=True)
    window = f"start_date={days_ago(50)}&end_date={days_ago(40)}"
    body = assert_success(client.get(f"/api/v2/health/timeline?{window}", headers=bearer(token)))
    assert [e["id"] for e in body["timeline"]] == [old]


@covers("GET /api/v2/health/daily-summary")
def test_daily_summary(client: TestClient) -> None:
    token, user = signup(client)
    checkin = post_checkin(client, token, medication_taken="yes", mood_today="hopeful")
    summary_shape = {
        "date": DATE,
        "user_id": user["id"],
        "check_in_completed": bool,
        "mood_score": opt(NUMBER),
        "confidence_score": opt(NUMBER),
        "medication_taken": (str, None),
        "events": [EVENT],
        "insights": list,
    }
    body = assert_success(client.get("/api/v2/health/daily-summary", headers=bearer(token)))
    assert_shape(body, {"success": True, "summary": summary_shape, "schema_version": "v2"})
    summary = body["summary"]
    assert summary["date"] == today_in().isoformat()
    assert summary["check_in_completed"] is True and summary["medication_taken"] == "yes"
    assert summary["confidence_score"] == 7
    assert {e["correlation_id"] for e in summary["events"]} == {checkin["id"]}
    other = assert_success(client.get(f"/api/v2/health/daily-summary?date={days_ago(3)}", headers=bearer(token)))
    assert other["summary"]["date"] == days_ago(3)
    assert other["summary"]["check_in_completed"] is False and other["summary"]["events"] == []


@covers("GET /api/v2/analytics")
@pytest.mark.parametrize(("timeframe", "days"), [(None, 7), ("week", 7), ("month", 30), ("quarter", 90)])
def test_analytics(client: TestClient, timeframe: str | None, days: int) -> None:
    token, _ = signup(client)
    post_checkin(client, token, mood_today="hopeful", medication_taken="yes")
    post_checkin(client, token, mood_today="anxious", medication_taken="no", date_submitted=days_ago(20))
    post_event(client, token, event_type="sleep", event_data={"hours": 7})
    query = f"?timeframe={timeframe}" if timeframe else ""
    body = assert_success(client.get(f"/api/v2/analytics{query}", headers=bearer(token)))
    shape = {
        "timeframe": timeframe or "week",
        "start_date": DATE,
        "end_date": today_in().isoformat(),
        "total_events": int,
        "checkin_count": int,
        "adherence_rate": opt(NUMBER),
        "mood_trends": {
            "mood_data": [{"date": DATE, "mood": (str, None), "confidence": opt(NUMBER)}],
            "trend": lambda t: t in {"improving", "declining", "stable", "insufficient_data"},
        },
        "daily_metrics": [dict],
        "event_counts": dict,
    }
    assert_shape(body, {"success": True, "analytics": shape, "schema_version": "v2"})
    a = body["analytics"]
    assert dt.date.fromisoformat(a["end_date"]) - dt.date.fromisoformat(a["start_date"]) == dt.timedelta(days - 1)
    in_window = 2 if days >= 21 else 1
    assert a["checkin_count"] == in_window
    assert all(type(n) is int and n > 0 for n in a["event_counts"].values())
    assert a["event_counts"]["sleep"] == 1 and a["event_counts"]["mood"] == in_window
    assert a["total_events"] == sum(a["event_counts"].values())
    assert a["adherence_rate"] == (50 if in_window == 2 else 100)


@covers(
    "GET /api/insights/daily",
    "GET /api/insights",
    "GET /api/insights/micro",
    "POST /api/insights/micro",
    "GET /api/insights/engagement",
    "POST /api/insights/engagement",
    "POST /api/insights/feedback",
    "GET /api/users/metrics",
    "GET /api/checkins/questions",
)
def test_insight_routes(client: TestClient) -> None:
    """Insight and metric shapes (the rules themselves are tested in db/tests and tests/http/test_insights.py)."""
    token, user = signup(client, **SIGNUP_PROFILE)
    post_checkin(client, token, anxiety_level=3, medication_taken="yes")
    h = bearer(token)
    daily = assert_success(client.get("/api/insights/daily", headers=h))
    insight = daily["insight"]
    assert set(insight) >= {"id", "type", "title", "message", "icon", "confidence"}
    assert daily["analysis_data"]["user_id"] == user["id"]
    assert daily["analysis_data"]["checkins_analyzed"] == 1
    listed = assert_success(client.get("/api/insights", headers=h))
    assert listed["count"] == 1 and listed["insights"][0]["id"] == insight["id"]
    micro = assert_success(client.get("/api/insights/micro", headers=h))["insight"]
    assert set(micro) >= {"type", "message", "subMessage", "icon"}
    posted = assert_success(client.post("/api/insights/micro", headers=h, json={"checkinData": {"mood_today": "ok"}}))
    assert set(posted["micro_insight"]) >= {"title", "message", "action", "type", "icon"}
    body = {"insight_type": insight["type"], "action": "viewed", "insight_id": insight["id"]}
    assert_success(client.post("/api/insights/engagement", headers=h, json=body))
    engagement = assert_success(client.get("/api/insights/engagement", headers=h))["engagement"]
    assert engagement["summary"]["insights_viewed"] == 1 and engagement["summary"]["checkins"] == 1
    assert_success(
        client.post("/api/insights/feedback", headers=h, json={"insight_id": insight["id"], "helpful": True})
    )
    metrics = assert_success(client.get("/api/users/metrics", headers=h))["metrics"]
    assert metrics["totalCheckIns"] == 1 and metrics["checkInStreak"] == 1
    questions = assert_success(client.get("/api/checkins/questions", headers=h))
    ids = [q["id"] for q in questions["questions"]]
    assert {"mood_today", "confidence_today"} <= set(ids), ids
    assert {"metadata", "personalization_summary"} <= set(questions)


def test_every_route_has_a_happy_path_test() -> None:
    assert {rid(r) for r in ROUTES} == COVERED


# ============================================================================================ errors: auth

VALID_BODY: dict[str, dict[str, Any]] = {
    "api.signup": {"email": "valid@example.com"},
    "api.login": {"email": "valid@example.com"},
    "api.update_me": {"nickname": "Dee"},
    "api.update_baseline": {"nickname": "Dee"},
    "api.update_cycle_stage": {"cycle_stage": "tww"},
    "api.update_medication_status": {"medication_status": "taking"},
    "api.create_checkin": {"mood_today": "hopeful", "confidence_today": 7},
    "api.create_enhanced_checkin": {"mood_today": "hopeful", "confidence_today": 7},
    "api.update_checkin": {"confidence_today": 8},
    "api.create_event": {"event_type": "mood", "event_data": {"mood": "ok"}},
    "api.create_micro_insight": {"checkinData": {"mood_today": "ok"}},
    "api.record_engagement": {"insight_type": "daily", "action": "viewed"},
    "api.insight_feedback": {"insight_id": str(uuid.uuid4()), "helpful": True},
}


def call(client: TestClient, route: Route, headers: dict[str, str] | None = None, *, checkin_id: str = "") -> Any:
    """One request to `route` with a valid body (an {id} is a random UUID unless given)."""
    path = route.path.replace("{id}", checkin_id or str(uuid.uuid4()))
    body = VALID_BODY.get(route.function)
    if body is not None:
        return client.request(route.method, path, headers=headers, json=body)
    return client.request(route.method, path, headers=headers)


NO_TOKEN = [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "Token abc"]


def test_auth_errors(client: TestClient) -> None:
    """Every route with auth: 401 without a token, 403 for a bad one, 404 for a valid token naming nobody
    (optional auth: no token or nobody's token is fine, a bad one is still 403)."""
    _, user = signup(client)
    bad_tokens = [
        auth.sign("another-secret-" + "z" * 40, {"id": user["id"], "email": user["email"]}),  # forged
        auth.sign(SECRET, {"id": user["id"], "email": user["email"]}, now=1_000_000),  # expired in 1970
        auth.sign(SECRET, {"nickname": "no identity"}),
        "header.payload.signature",
    ]
    nobody = [{"email": "ghost@example.com"}, {"id": str(uuid.uuid4())}, {"id": "not-a-uuid", "email": "x@y.io"}]
    for route in (r for r in ROUTES if r.auth != "none"):
        with about(rid(route)):
            check_auth(client, route, bad_tokens, nobody)


def check_auth(client: TestClient, route: Route, bad_tokens: list[str], nobody: list[dict[str, str]]) -> None:
    required = route.auth == "required"
    for authorization in NO_TOKEN:
        r = call(client, route, {} if authorization is None else {"Authorization": authorization})
        if required:
            assert_error(r, 401, "Access token required", "AUTH_REQUIRED")
        elif authorization in (None, ""):
            assert_success(r)
    for token in bad_tokens:
        assert_error(call(client, route, bearer(token)), 403, "Invalid or expired token", "INVALID_TOKEN")
    for claims in nobody:
        r = call(client, route, bearer(auth.sign(SECRET, claims)))
        if required:
            assert_error(r, 404, "User not found", "USER_NOT_FOUND")
        else:
            assert_success(r)


# ==================================================================================== errors: the request body

TOO_BIG = b'{"pad":"' + b"x" * (64 * 1024) + b'"}'
NOT_AN_OBJECT = [b"[1]", b'{"a":', b"null", b'"text"', b"{'a':1}", b"\xff\xfe{}"]
# An empty body is {}: routes with only optional fields succeed; the others name their required field.
EMPTY_BODY = {
    "POST /api/users": (400, "Email is required"),
    "POST /api/auth/signup": (400, "Email is required"),
    "POST /api/auth/login": (400, "Email is required"),
    "PUT /api/users/me": (200, None),
    "PUT /api/users/password": (400, "new_password is required"),
    "PATCH /api/users/baseline": (200, None),
    "POST /api/users/complete-onboarding": (200, None),
    "PATCH /api/users/cycle-stage": (400, "cycle_stage is required"),
    "PATCH /api/users/medication-status": (400, "medication_status is required"),
    "POST /api/checkins": (400, MISSING_FIELDS),
    "PUT /api/checkins/{id}": (200, None),
    "DELETE /api/checkins/{id}": (200, None),
    "POST /api/daily-checkin-enhanced": (400, MISSING_FIELDS),
    "POST /api/v2/health/events": (400, "event_type is required"),
    "POST /api/insights/micro": (200, None),
    "POST /api/insights/engagement": (400, "Missing required fields: insight_type, action"),
    "POST /api/insights/feedback": (400, "Missing required fields: insight_id, helpful"),
}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=rid)
def test_body_errors(client: TestClient, route: Route) -> None:
    """413 over 64 KiB (with or without Content-Length), 400 Invalid JSON body, and an empty body is {}."""
    token, _ = signup(client)
    checkin_id = post_checkin(client, token)["id"]
    path = route.path.replace("{id}", checkin_id)
    headers = {**bearer(token), "Content-Type": "application/json"}
    chunked = iter([TOO_BIG[i : i + 8192] for i in range(0, len(TOO_BIG), 8192)])
    for content in (TOO_BIG, chunked):
        assert_error(
            client.request(route.method, path, headers=headers, content=content), 413, code="PAYLOAD_TOO_LARGE"
        )
    for raw in NOT_AN_OBJECT:
        r = client.request(route.method, path, headers=headers, content=raw)
        assert_error(r, 400, "Invalid JSON body", "INVALID_JSON")
    assert_success(client.get(f"/api/checkins/{checkin_id}", headers=headers))  # nothing happened to it
    status, message = EMPTY_BODY[rid(route)]
    for n, empty in enumerate((b"", b"  \n")):
        if route.method == "DELETE":  # each empty body deletes one check-in
            path = route.path.replace("{id}", post_checkin(client, token, date_submitted=days_ago(n + 1))["id"])
        r = client.request(route.method, path, headers=bearer(token), content=empty)
        if status == 200:
            assert_success(r)
        else:
            assert_error(r, status, message, "VALIDATION_ERROR")


def test_body_of_exactly_64_kib_is_accepted(client: TestClient) -> None:
    token, _ = signup(client)
    headers = {**bearer(token), "Content-Type": "application/json"}
    prefix, suffix = b'{"nickname":"Eve","pad":"', b'"}'
    exact = prefix + b"x" * (64 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(exact) == 64 * 1024
    assert assert_success(client.put("/api/users/me", headers=headers, content=exact))["user"]["nickname"] == "Eve"
    assert_error(client.put("/api/users/me", headers=headers, content=exact[:-2] + b'x"}'), 413)


# =========================================================================================== errors: 400s
#
# route -> [(query or body, message — exact where the contract or the function pins it, else "" — field named)]

TOO_LONG_EMAIL = "a" * 250 + "@example.com"
OK = {"mood_today": "ok", "confidence_today": 7}
EVENT_OK = {"event_type": "mood", "event_data": {"mood": "ok"}}
VALIDATION: dict[str, list[tuple[dict[str, Any], str, str | None]]] = {
    "POST /api/users": [
        ({"email": "  "}, "Email is required", "email"),
        ({"email": TOO_LONG_EMAIL}, "Email address too long", "email"),
        ({"email": "x@y.io", "nickname": "n" * 51}, "Nickname too long (max 50 characters)", "nickname"),
    ],
    "POST /api/auth/signup": [
        ({"email": "no-at-sign.io"}, "Invalid email format", "email"),
        ({"email": "x@y.io", "confidence_costs": 0}, "confidence_costs must be between 1 and 10", "confidence_costs"),
        ({"email": "x@y.io", "timezone": "Mars/Olympus"}, "", "timezone"),
        ({"email": "x@y.io", "email_opt_in": "sometimes"}, "", "email_opt_in"),
        ({"email": "x@y.io", "cycle_stage": "done"}, "", "cycle_stage"),
    ],
    "POST /api/auth/login": [
        ({}, "Email is required", "email"),
        ({"email": ""}, "Email is required", "email"),
    ],
    "PUT /api/users/me": [
        ({"confidence_overall": 11}, "confidence_overall must be between 1 and 10", "confidence_overall"),
        ({"nickname": "n" * 51}, "Nickname too long (max 50 characters)", "nickname"),
        ({"medication_status": "sometimes"}, "", "medication_status"),
    ],
    "PATCH /api/users/baseline": [
        ({"confidence_meds": "high"}, "confidence_meds must be an integer", "confidence_meds"),
    ],
    "PATCH /api/users/cycle-stage": [
        ({"cycle_stage": "finished"}, "", "cycle_stage"),
        ({"cycle_stage": None}, "cycle_stage is required", "cycle_stage"),
    ],
    "PATCH /api/users/medication-status": [
        ({"medication_status": 3}, "", "medication_status"),
    ],
    "POST /api/checkins": [
        ({"confidence_today": 7}, MISSING_FIELDS, None),
        ({"mood_today": "  ", "confidence_today": 7}, MISSING_FIELDS, None),
        ({**OK, "confidence_today": 0}, "confidence_today must be between 1 and 10", "confidence_today"),
        ({**OK, "confidence_today": "7.5"}, "", "confidence_today"),
        ({**OK, "mood_today": "m" * 101}, "", "mood_today"),
        ({**OK, "medication_taken": "maybe"}, "", "medication_taken"),
        ({**OK, "user_note": "n" * 5001}, "", "user_note"),
        ({**OK, "anxiety_level": 11}, "", "anxiety_level"),
        ({**OK, "missed_doses": 51}, "", "missed_doses"),
        ({**OK, "side_effects": "nausea"}, "", "side_effects"),
        ({**OK, "phq4_feeling_down": 4}, "", "phq4_feeling_down"),
        ({**OK, "partner_involved_today": "yes"}, "", "partner_involved_today"),
        ({**OK, "symptom_severity": [1]}, "", "symptom_severity"),
        ({**OK, "date_submitted": "2026-02-30"}, "", "date_submitted"),
        ({**OK, "date_submitted": "2999-01-01"}, "", "date_submitted"),
        ({**OK, "date_submitted": "03/04/2026"}, "", "date_submitted"),
    ],
    "POST /api/daily-checkin-enhanced": [
        ({"mood_today": "ok"}, MISSING_FIELDS, None),
        ({**OK, "confidence_today": 11}, "confidence_today must be between 1 and 10", "confidence_today"),
    ],
    "PUT /api/checkins/{id}": [
        ({"confidence_today": 0}, "confidence_today must be between 1 and 10", "confidence_today"),
        ({"mood_today": None}, MISSING_FIELDS, None),
        ({"injection_confidence": 0}, "", "injection_confidence"),
    ],
    "GET /api/checkins": [
        ({"limit": "0"}, "", "limit"),
        ({"limit": "101"}, "", "limit"),
        ({"limit": "ten"}, "", "limit"),
    ],
    "POST /api/v2/health/events": [
        ({"event_data": {"mood": "ok"}}, "event_type is required", "event_type"),
        ({"event_type": "weather", "event_data": {}}, "Unknown event_type: weather", "event_type"),
        ({"event_type": "mood", "event_data": {}}, "", "event_data.mood"),
        ({"event_type": "medication", "event_data": {"status": "forgot"}}, "", "event_data.status"),
        ({"event_type": "mood", "event_data": "happy"}, "", "event_data"),
        ({**EVENT_OK, "occurred_at": "2999-01-01T00:00:00Z"}, "", "occurred_at"),
        ({**EVENT_OK, "occurred_at": "yesterday"}, "", "occurred_at"),
        ({**EVENT_OK, "correlation_id": "abc"}, "", "correlation_id"),
    ],
    "GET /api/v2/health/timeline": [
        ({"limit": "1001"}, "", "limit"),
        ({"event_types": "mood,weather"}, "Unknown event_type: weather", "event_types"),
        ({"start_date": "2026-13-01"}, "", "start_date"),
        ({"start_date": "2026-03-02", "end_date": "2026-03-01"}, "", "start_date"),
        ({"before": "yesterday"}, "", "before"),
        ({"include_history": "perhaps"}, "", "include_history"),
    ],
    "GET /api/v2/health/daily-summary": [
        ({"date": "2026-02-29"}, "", "date"),
        ({"date": "today"}, "", "date"),
    ],
    "GET /api/v2/analytics": [
        ({"timeframe": "year"}, "", "timeframe"),
    ],
}


@pytest.mark.parametrize("route", sorted(VALIDATION))
def test_validation_errors_are_400_with_a_code(client: TestClient, route: str) -> None:
    token, _ = signup(client)
    method, path = route.split(" ")
    path = path.replace("{id}", post_checkin(client, token)["id"]) if "{id}" in path else path
    before = assert_success(client.get("/api/checkins", headers=bearer(token)))["records"]
    for args, message, field in VALIDATION[route]:
        with about(f"{route} {args!r:.80}"):
            check_400(client, token, method, path, args, message, field)
    # nothing was written
    assert assert_success(client.get("/api/checkins", headers=bearer(token)))["records"] == before


def check_400(
    client: TestClient, token: str, method: str, path: str, args: dict[str, Any], message: str, field: str | None
) -> None:
    if method == "GET":
        r = client.get(path, headers=bearer(token), params=args)
    else:
        r = client.request(method, path, headers=bearer(token), json=args)
    body = assert_error(r, 400, message or None, "VALIDATION_ERROR")
    if field is not None:
        assert body["field"] == field, (args, body)
        assert message or field.split(".")[-1] in body["error"], (args, body)  # the message names the field


# ============================================================================================= errors: 404s

MALFORMED_IDS = ["not-a-uuid", "12345", uuid.UUID(int=7).hex, f"{{{uuid.UUID(int=7)}}}", f"{uuid.UUID(int=7)}0"]
ID_ROUTES = [r for r in ROUTES if "{id}" in r.path]


@pytest.mark.parametrize("route", ID_ROUTES, ids=rid)
def test_id_errors_are_404(client: TestClient, route: Route) -> None:
    """Malformed, unknown, deleted and another user's ids: 404 Check-in not found; nothing changes."""
    owner, _ = signup(client)
    intruder, _ = signup(client)
    mine = post_checkin(client, owner, user_note="private")
    gone = post_checkin(client, owner, date_submitted=days_ago(1))["id"]
    assert_success(client.delete(f"/api/checkins/{gone}", headers=bearer(owner)))
    bad_ids = [*MALFORMED_IDS, str(uuid.uuid4()), gone]
    if route.method != "GET":
        bad_ids.append("today")  # PUT/DELETE /api/checkins/today are the {id} routes
    for bad in bad_ids:
        with about(f"id={bad}"):
            assert_error(call(client, route, bearer(owner), checkin_id=bad), 404, "Check-in not found", "NOT_FOUND")
    r = call(client, route, bearer(intruder), checkin_id=mine["id"])
    assert_error(r, 404, "Check-in not found", "NOT_FOUND")
    after = assert_success(client.get(f"/api/checkins/{mine['id']}", headers=bearer(owner)))["checkin"]
    assert same(after, mine)
    assert assert_success(client.get("/api/checkins", headers=bearer(intruder)))["count"] == 0


def test_id_with_nul_is_404(client: TestClient) -> None:
    token, _ = signup(client)
    for route in ID_ROUTES:
        assert_error(call(client, route, bearer(token), checkin_id="%00"), 404, "Check-in not found", "NOT_FOUND")


def test_other_users_event_is_404(client: TestClient) -> None:
    owner, _ = signup(client)
    intruder, _ = signup(client)
    event = post_event(client, owner)
    for action in ("record", "correct", "retract"):
        body = {"event_type": "mood", "event_data": {"mood": "x"}, "related_event_id": event["id"], "action": action}
        r = client.post("/api/v2/health/events", headers=bearer(intruder), json=body)
        assert_error(r, 404, "Event not found", "NOT_FOUND")
    timeline = assert_success(client.get("/api/v2/health/timeline?include_history=true", headers=bearer(owner)))
    assert [e["id"] for e in timeline["timeline"]] == [event["id"]]


# ============================================================================================= errors: 409s


def test_duplicate_signup_is_409(client: TestClient) -> None:
    for first, second in [("/api/users", "/api/auth/signup"), ("/api/auth/signup", "/api/users")]:
        email = new_email()
        assert_success(client.post(first, json={"email": email}), 201)
        r = client.post(second, json={"email": f" {email.upper()} ", "nickname": "Twin"})
        assert_error(r, 409, "User already exists", "USER_EXISTS")
        token = auth.sign(SECRET, {"email": email})
        assert assert_success(client.get("/api/users/me", headers=bearer(token)))["user"]["nickname"] is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/api/checkins", "/api/checkins"),
        ("/api/checkins", "/api/daily-checkin-enhanced"),
        ("/api/daily-checkin-enhanced", "/api/checkins"),
    ],
)
def test_duplicate_checkin_is_409_with_the_existing_one(client: TestClient, first: str, second: str) -> None:
    token, _ = signup(client)
    for date in ({}, {"date_submitted": days_ago(9)}):
        body = {"mood_today": "first", "confidence_today": "4", **date}
        created = assert_success(client.post(first, headers=bearer(token), json=body), 201)["checkin"]
        again = {"mood_today": "second", "confidence_today": 9, "user_note": "late", **date}
        r = client.post(second, headers=bearer(token), json=again)
        out = assert_error(r, 409, DUPLICATE_MESSAGE, "CHECKIN_EXISTS")
        assert out["existing_checkin"] == {
            "id": created["id"],
            "mood_today": "first",
            "confidence_today": 4,
            "date_submitted": created["date_submitted"],
        }
        got = assert_success(client.get(f"/api/checkins/{created['id']}", headers=bearer(token)))["checkin"]
        assert same(got, created)
    assert assert_success(client.get("/api/checkins", headers=bearer(token)))["count"] == 2


def test_moving_a_checkin_onto_a_taken_date_is_409(client: TestClient) -> None:
    token, _ = signup(client)
    taken = post_checkin(client, token, date_submitted=days_ago(1), mood_today="taken")
    moving = post_checkin(client, token, date_submitted=days_ago(2))
    body = {"date_submitted": days_ago(1), "anxiety_level": 9}
    out = assert_error(client.put(f"/api/checkins/{moving['id']}", headers=bearer(token), json=body), 409)
    assert out["code"] == "CHECKIN_EXISTS" and out["existing_checkin"]["id"] == taken["id"]
    assert same(assert_success(client.get(f"/api/checkins/{moving['id']}", headers=bearer(token)))["checkin"], moving)


def test_event_conflicts_are_409(client: TestClient) -> None:
    token, _ = signup(client)
    headers = bearer(token, **{"Idempotency-Key": "key-1"})
    body = {"event_type": "mood", "event_data": {"mood": "calm"}}
    first = assert_success(client.post("/api/v2/health/events", headers=headers, json=body), 201)["event"]
    other = {**body, "event_subtype": "changed"}
    assert_error(client.post("/api/v2/health/events", headers=headers, json=other), 409, code="IDEMPOTENCY_CONFLICT")
    fix = {"action": "correct", "related_event_id": first["id"], "event_data": {"mood": "better"}}
    assert_success(client.post("/api/v2/health/events", headers=bearer(token), json=fix), 201)
    assert_error(client.post("/api/v2/health/events", headers=bearer(token), json=fix), 409, code="CONFLICT")
    history = assert_success(client.get("/api/v2/health/timeline?include_history=true", headers=bearer(token)))
    assert history["count"] == 2  # the original and its one correction


# ====================================================================================== user_id is ignored


def test_user_id_in_the_body_is_ignored(client: TestClient) -> None:
    """Every writing route: a body's user_id (or id, email) never moves the write to another user."""
    token, me = signup(client)
    other_token, other = signup(client, nickname="Other")
    foreign = {"user_id": other["id"]}
    for path in ("/api/checkins", "/api/daily-checkin-enhanced"):
        body = {"mood_today": "ok", "confidence_today": 5, "date_submitted": days_ago(len(path)), **foreign}
        assert (
            assert_success(client.post(path, headers=bearer(token), json=body), 201)["checkin"]["user_id"] == me["id"]
        )
    checkin = post_checkin(client, token)
    body = {"confidence_today": 2, "id": str(uuid.uuid4()), **foreign}
    out = assert_success(client.put(f"/api/checkins/{checkin['id']}", headers=bearer(token), json=body))["checkin"]
    assert (out["id"], out["user_id"], out["confidence_today"]) == (checkin["id"], me["id"], 2)
    assert post_event(client, token, **foreign)["user_id"] == me["id"]
    for method, path in (("PUT", "/api/users/me"), ("PATCH", "/api/users/baseline")):
        body = {"nickname": f"Changed {method}", "id": other["id"], "email": other["email"], **foreign}
        user = assert_success(client.request(method, path, headers=bearer(token), json=body))["user"]
        assert (user["id"], user["email"], user["nickname"]) == (me["id"], me["email"], f"Changed {method}")
    assert assert_success(client.get("/api/users/me", headers=bearer(other_token)))["user"] == other
    assert assert_success(client.get("/api/checkins", headers=bearer(other_token)))["count"] == 0
    assert assert_success(client.get("/api/checkins", headers=bearer(token)))["count"] == 3
    assert assert_success(client.get("/api/v2/health/timeline", headers=bearer(other_token)))["count"] == 0


# ========================================================================= wrong method, V2 off, never a 5xx


def test_wrong_method_is_405(client: TestClient) -> None:
    for path in sorted({r.path for r in ROUTES}):
        concrete = path.replace("{id}", str(uuid.uuid4()))
        # the methods some route answers on this concrete path (PUT /api/checkins/today is PUT /api/checkins/{id})
        allowed = {r.method for r in ROUTES if re.fullmatch(r.path.replace("{id}", "[^/]+"), concrete)}
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed):
            r = client.request(method, concrete, headers=bearer("x"))
            assert_error(r, 405, code="METHOD_NOT_ALLOWED")


@pytest.fixture
def v2_off_client(gateway_url: str) -> Iterator[TestClient]:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "false"})
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        yield c


def test_v2_routes_are_503_while_the_flag_is_off(v2_off_client: TestClient) -> None:
    token, _ = signup(v2_off_client)
    for route in (r for r in ROUTES if r.v2_only):
        r = call(v2_off_client, route, bearer(token))
        assert_error(r, 503, V2_DISABLED, "SCHEMA_V2_DISABLED")
    status = assert_success(v2_off_client.get("/api/v2/status"))["status"]
    assert status["schema_v2_enabled"] is False
    assert status["features"] == {
        "health_events": False,
        "event_sourcing": False,
        "enhanced_analytics": False,
        "backward_compatibility": True,
    }
    assert status["endpoints_available"] == ["GET /api/v2/status"]


@pytest.fixture
def raw_client(gateway_url: str) -> Iterator[TestClient]:
    """The real app, answering 500 for an unexpected exception as a server would (instead of raising it)."""
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, gateway_url, SECRET), raise_server_exceptions=False) as c:
        yield c


# One value of each JSON kind and a few edges (huge, NUL, over-long, blank, not-a-date).
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    10**30,
    1.5,
    "",
    "2026-02-30",
    "x" * 6000,
    "é\n\u2028😀\u0000",
    [None, 1, "a"],
    {"a": {"b": [1, {"c": None}]}},
]
HOSTILE_QUERY = ["", "-1", "1e3", "99999999999999999999", "0000-01-01", "9999-12-31", "2026-01-01T25:00:00Z",
                 ",,,", "%", "\u0000", "😀" * 300, "-9999999999999999_999999999999999999"]  # fmt: skip
HOSTILE_IDS = ["0", "%20", "%00", "%FF", "..", "x" * 500, str(uuid.UUID(int=0)), "😀"]
# The inputs each function reads (plus keys every function must ignore or refuse).
CHECKIN_KEYS = ["mood_today", "confidence_today", "medication_taken", "anxiety_level", "side_effects",
                "symptom_severity", "appointment_within_3_days", "journey_reflection_today", "date_submitted",
                "checkin_type", "extra"]  # fmt: skip
BODY_KEYS: dict[str, list[str]] = {
    "api.signup": ["email", "nickname", "timezone", "email_opt_in", "confidence_meds", "cycle_stage", "password"],
    "api.login": ["email", "password"],
    "api.change_password": ["new_password", "current_password"],
    "api.update_me": ["nickname", "timezone", "email_opt_in", "confidence_costs", "medication_status",
                      "baseline_completed"],
    "api.update_baseline": ["confidence_overall", "top_concern"],
    "api.update_cycle_stage": ["cycle_stage"],
    "api.update_medication_status": ["medication_status"],
    "api.create_checkin": CHECKIN_KEYS,
    "api.create_enhanced_checkin": ["checkin_type", "mood_today"],
    "api.update_checkin": CHECKIN_KEYS,
    "api.create_event": ["event_type", "event_subtype", "event_data", "occurred_at", "correlation_id",
                         "related_event_id", "action"],
}  # fmt: skip
QUERY_KEYS = {
    "api.list_checkins": ["limit"],
    "api.timeline": ["start_date", "end_date", "event_types", "limit", "before", "include_history"],
    "api.daily_summary": ["date"],
    "api.analytics": ["timeframe"],
}
# Every route gets the query string in its args: keys no route should be steered by.
GENERIC_QUERY = [
    {"id": "\u0000", "user_id": "x", "schema_v2_enabled": "maybe", "idempotency_key": "", "_status": "-1"},
    {"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "_status": "599"},
]


def _broken(r: Any) -> str | None:
    """Why a response breaks the invariants (a 5xx, or an error body without success:false/error/code)."""
    if r.status_code >= 500:
        return f"{r.status_code} {r.text[:200]}"
    body = r.json()
    if r.status_code >= 400:
        if r.status_code == 404 and body == {"success": False, "error": "Endpoint not found", "path": body.get("path")}:
            return None  # the contract's unknown-route body (a path id of "..", which the client resolves)
        if body.get("success") is not False or not body.get("error") or not body.get("code"):
            return f"{r.status_code} malformed error body {r.text[:200]}"
    elif body.get("success") is not True:
        return f"{r.status_code} success body without success:true {r.text[:200]}"
    return None


def test_no_input_yields_a_5xx(raw_client: TestClient) -> None:
    """Hostile values for every input of every route: never a 5xx, every error body {success:false, error, code}."""
    client = raw_client
    token, _ = signup(client)
    checkin_id = post_checkin(client, token, date_submitted=days_ago(1))["id"]
    headers = bearer(token)
    failures: list[str] = []

    def check(r: Any, what: str) -> None:
        if problem := _broken(r):
            failures.append(f"{what}: {problem}")

    for route in ROUTES:
        path = route.path.replace("{id}", checkin_id)
        where = rid(route)
        base = VALID_BODY.get(route.function, {})
        for key in BODY_KEYS.get(route.function, []):
            for value in HOSTILE_VALUES:
                r = client.request(route.method, path, headers=headers, json={**base, key: value})
                check(r, f"{where} {key}={value!r:.40}")
        for key in QUERY_KEYS.get(route.function, []):
            for value in HOSTILE_QUERY:
                r = client.request(route.method, path, headers=headers, params={key: value})
                check(r, f"{where} ?{key}={value!r:.40}")
        for params in GENERIC_QUERY:
            check(client.request(route.method, path, headers=headers, params=params), f"{where} ?{params}")
        if "{id}" in route.path:
            for bad in HOSTILE_IDS:
                r = client.request(route.method, route.path.replace("{id}", bad), headers=headers)
                check(r, f"{where} id={bad!r:.40}")
        if route.function == "api.create_event":
            for key in [" " * 10, "k" * 201, "é😀"]:
                r = client.post(path, headers={**headers, "Idempotency-Key": key.encode()}, json=base)
                check(r, f"{where} Idempotency-Key={key!r:.9}")
    assert not failures, "\n".join(failures)


def test_deeply_nested_body_is_never_a_5xx(raw_client: TestClient) -> None:
    token, _ = signup(raw_client)
    headers = {**bearer(token), "Content-Type": "application/json"}
    limit = sys.getrecursionlimit()
    statuses = {}
    for depth in range(limit - 150, limit + 10):
        raw = b'{"nickname":"deep","extra":' + b"[" * depth + b"]" * depth + b"}"
        statuses[depth] = raw_client.put("/api/users/me", headers=headers, content=raw).status_code
    assert all(s < 500 for s in statuses.values()), {d: s for d, s in statuses.items() if s >= 500}
