"""GET /api/users/me/export over HTTP: the document's shape, its round trip with erasure (export, erase, export:
404), and a 3-year daily history exported well within a second's budget."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from starlette.testclient import TestClient

from gateway import auth
from novara import seed as seeding
from tests._http import DATE, EVENT, ISO, USER, assert_error, assert_shape, bearer, signup
from tests.conftest import SECRET

CHECKIN = {"id": str, "user_id": str, "date_submitted": DATE, "created_at": ISO, "updated_at": ISO}


def export(client: TestClient, token: str) -> dict[str, Any]:
    r = client.get("/api/users/me/export", headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_export_erase_export(client: TestClient, db_url: str) -> None:
    token, user = signup(client, nickname="Ann", cycle_stage="ivf_prep")
    other, _ = signup(client)
    h = bearer(token)
    first = client.post("/api/checkins", json={"mood_today": "hopeful", "confidence_today": 7}, headers=h).json()
    checkin_id = first["checkin"]["id"]
    assert client.put(f"/api/checkins/{checkin_id}", json={"confidence_today": 9}, headers=h).status_code == 200
    client.post("/api/checkins", json={"mood_today": "tired", "confidence_today": 4}, headers=bearer(other))
    client.post("/api/v2/health/events", json={"event_type": "sleep", "event_data": {"hours": 6}}, headers=h)

    body = export(client, token)
    assert body["success"] is True
    doc = body["export"]
    assert_shape(
        doc,
        {
            "user": USER,
            "profile": {"nickname": "Ann", "cycle_stage": "ivf_prep"},
            "checkins": [CHECKIN],
            "events": [EVENT],
            "insights": list,
            "engagement": list,
            "generated_at": ISO,
        },
    )
    assert doc["user"]["id"] == user["id"]
    assert [c["confidence_today"] for c in doc["checkins"]] == [9]  # live, the corrected value
    assert {e["action"] for e in doc["events"]} >= {"record", "correct"}  # the whole history
    assert {e["user_id"] for e in doc["events"]} == {user["id"]}

    with psycopg.connect(db_url, autocommit=True) as conn:  # a DBA erases the account
        conn.execute("SELECT core.erase_user(%s, 'asked by the person')", [user["id"]])
    assert_error(client.get("/api/users/me/export", headers=h), 404, "User not found", "USER_NOT_FOUND")
    assert export(client, other)["export"]["checkins"][0]["mood_today"] == "tired"  # the other user is intact


def test_export_needs_a_token(client: TestClient) -> None:
    assert_error(client.get("/api/users/me/export"), 401, "Access token required")


def test_three_years_of_daily_history_export_fast(client: TestClient, db_url: str) -> None:
    """The benchmark's generator writes a user with a check-in on every one of 1 095 days (and the V2 events of
    those days); the export is timed through the real app. The budget is a second; the bound here is loose
    because the machine is shared (README, "Your data": the measured time)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        seeding.install(conn)
        seeding.signup(conn, 42, "history", "history", 0, 1, 1095, 1.0)
        checkins, events, _plan, _write = seeding.write_cohort(conn, 42, "history", 0, 1)
    assert checkins == 1095
    token = auth.sign(SECRET, {"email": "history0@bench.invalid"})
    export(client, token)  # warm: the catalog, the pool, the token
    started = time.perf_counter()
    doc = export(client, token)["export"]
    seconds = time.perf_counter() - started
    assert len(doc["checkins"]) == 1095
    assert len(doc["events"]) == events
    print(f"export of {len(doc['checkins'])} check-ins and {len(doc['events'])} events: {seconds * 1000:.0f} ms")
    assert seconds < 3.0, f"{seconds:.2f} s"
