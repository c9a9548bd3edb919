"""A check-in's fields round-trip over HTTP ("every one is stored and read back exactly").

Every field of 3.1, every "also accepted" field and extras of every JSON kind are POSTed, then read back
with GET /api/checkins/{id}, GET /api/checkins and GET /api/checkins/last-values: each submitted key comes
back with the same JSON type and value, flat and under "fields". A hypothesis property (the strategies of
tests/sql/test_checkin_roundtrip.py, which checks the same at the SQL level) does it for random check-ins.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from starlette.testclient import TestClient

from tests._checkins import checkins, expected_phq4
from tests._http import assert_item, assert_listing, bearer, same, signup


def days_ago(n: int) -> str:
    return (dt.datetime.now(ZoneInfo("America/Los_Angeles")).date() - dt.timedelta(days=n)).isoformat()


# The check-in fields, in the order of docs/api.md.
EIGHTEEN = {
    "mood_today": "hopeful, anxious",
    "confidence_today": 7,
    "medication_taken": "partial",
    "user_note": 'Line one\nLine two — ünïcödé, 中文, עברית, 🌱\n\ttabbed "quoted" \\ backslash\r\nend',
    "date_submitted": days_ago(3),
    "primary_concern_today": "timing of the transfer 🗓️",
    "anxiety_level": 6,
    "side_effects": ["bloating", "headache\nin the evening", "🤢 nausea", ""],
    "missed_doses": 1,
    "injection_confidence": 8,
    "appointment_within_3_days": True,
    "appointment_anxiety": 9,
    "coping_strategies_used": ["walk\noutside", "breathing 4-7-8", "talk to\n\npartner"],
    "partner_involved_today": False,
    "wish_knew_more_about": ["PGT-A results", 'what "grade 4AA" means'],
    "phq4_feeling_nervous": 2,
    "phq4_stop_worrying": 1,
    "phq4_little_interest": 0,
    "phq4_feeling_down": 3,
    "phq4_score": 6,  # = the derived values, so they come back as sent
    "phq4_anxiety": 3,
    "phq4_depression": 3,
}
ALSO_ACCEPTED = {
    "journey_reflection_today": "I feel like\nthings are moving",
    "medication_confidence_today": 8,
    "medication_readiness_today": "7",  # text stays text ("as sent")
    "financial_confidence_today": 3,
    "journey_confidence_today": 6,
    "financial_stress_today": 10,
    "journey_readiness_today": "ready-ish",
    "medication_concern_today": "running out of Menopur",
    "financial_concern_today": "insurance cap\nreached",
    "top_concern_today": "money",
    "medication_momentum": "steady",
    "financial_momentum": "slipping",
    "journey_momentum": "building",
    "cycle_stage_update": "stimulation",
    "physical_symptoms": ["cramping", {"name": "spotting", "level": 2}, 3, None, True, 2.5],
    "symptom_severity": {"cramping": 4, "bloating": {"am": 2, "pm": 5.5}, "notes": ["x", None]},
    "sentiment_analysis": {"sentiment": "neutral", "confidence": 0.61, "keywords": ["hopeful"]},
}
EXTRAS = {
    "clinic_visit": {"doctor": "Dr. Ōtani", "follow_up": None, "labs": [{"e2": 1234.5}, {"lh": 0}], "ok": True},
    "sleep_hours": 6.5,
    "steps": 10432,
    "big_number": 123456789012345,
    "negative": -3,
    "is_trial": False,
    "tags": [],
    "empty_object": {},
    "nothing": None,
    "nested_lists": [[1, [2, [3, []]]], ["a\nb"]],
    "ключ 🔑": "значение",
    "key with\nnewline": "ok",
    "": "the empty key",
}
FULL = {**EIGHTEEN, **ALSO_ACCEPTED, **EXTRAS}


def assert_round_trip(item: dict[str, Any], sent: dict[str, Any], where: str) -> None:
    """Every sent key is in `item` flat and under "fields", with the same JSON type and value."""
    assert_item(item)
    for key, value in sent.items():
        assert key in item["fields"], (where, key)
        assert same(item["fields"][key], value), (where, key, value, item["fields"][key])
        if key != "fields":
            assert same(item[key], value), (where, key, value, item[key])


def test_every_field_round_trips(client: TestClient) -> None:
    token, user = signup(client)
    r = client.post("/api/checkins", headers=bearer(token), json=FULL)
    assert r.status_code == 201, r.text
    created = r.json()["checkin"]
    assert created["user_id"] == user["id"]
    assert_round_trip(created, FULL, "POST")

    got = client.get(f"/api/checkins/{created['id']}", headers=bearer(token)).json()["checkin"]
    assert_round_trip(got, FULL, "GET /api/checkins/{id}")
    assert same(got, created)

    listing = client.get("/api/checkins", headers=bearer(token)).json()
    assert listing["count"] == 1
    row = assert_listing(listing)[0]
    assert_round_trip({**row, "fields": row}, FULL, "GET /api/checkins")
    assert same({**row, "fields": row}, got)

    last = client.get("/api/checkins/last-values", headers=bearer(token)).json()
    for key, value in FULL.items():  # the latest check-in's row, flat
        assert same(last["last_values"][key], value), ("last-values", key)
    assert last["last_values"]["days_since_last_checkin"] == 3


def test_a_full_update_round_trips(client: TestClient) -> None:
    """PUT every field with new values (some of another JSON type): all come back, nothing else changes."""
    token, _ = signup(client)
    created = client.post("/api/checkins", headers=bearer(token), json=FULL).json()["checkin"]
    changes = {
        "mood_today": "grateful\nand calm",
        "confidence_today": 10,
        "medication_taken": "not_applicable",
        "user_note": "",
        "date_submitted": days_ago(5),
        "side_effects": None,
        "phq4_feeling_nervous": 0,  # the scores follow the items
        "journey_reflection_today": 4,  # text -> integer
        "medication_readiness_today": "not yet",
        "physical_symptoms": [],
        "symptom_severity": {"new": {"deeper": [True]}},
        "clinic_visit": "cancelled",  # an extra changes type
        "added_later": {"x": [1.25, "y"]},
    }
    r = client.put(f"/api/checkins/{created['id']}", headers=bearer(token), json=changes)
    assert r.status_code == 200, r.text
    expected = {**FULL, **changes, "phq4_score": 4, "phq4_anxiety": 1, "phq4_depression": 3}
    assert_round_trip(r.json()["checkin"], expected, "PUT")
    got = client.get(f"/api/checkins/{created['id']}", headers=bearer(token)).json()["checkin"]
    assert_round_trip(got, expected, "GET after PUT")
    assert got["created_at"] == created["created_at"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=checkins())
def test_any_valid_checkin_round_trips_over_http(client: TestClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    assume(len(raw) <= 64 * 1024)
    token, _ = signup(client)  # a fresh user per example
    r = client.post("/api/checkins", headers={**bearer(token), "Content-Type": "application/json"}, content=raw)
    assert r.status_code == 201, r.text
    created = r.json()["checkin"]
    got = client.get(f"/api/checkins/{created['id']}", headers=bearer(token)).json()["checkin"]
    assert same(got, created), "GET differs from the POST response"
    listed = assert_listing(client.get("/api/checkins", headers=bearer(token)).json())
    assert len(listed) == 1 and same({**listed[0], "fields": listed[0]}, got)

    expected = {**body, **(expected_phq4(body) or {})}
    assert_round_trip(got, expected, "GET /api/checkins/{id}")
    if "date_submitted" not in body:
        today = client.get("/api/checkins/today", headers=bearer(token)).json()
        assert today["hasCheckedIn"] is True and got["date_submitted"] == today["date"]
    if "medication_taken" not in body:
        assert got["medication_taken"] == "not tracked"


@pytest.mark.parametrize("literal", ["3.14159265358979323846264338327950288", "1e400", "0.1000000000000000055511"])
def test_json_numbers_are_kept_exactly(client: TestClient, literal: str) -> None:
    token, _ = signup(client)
    raw = f'{{"mood_today":"ok","confidence_today":7,"lab_value":{literal}}}'.encode()
    r = client.post("/api/checkins", headers={**bearer(token), "Content-Type": "application/json"}, content=raw)
    assert r.status_code == 201, r.text
    got = client.get(f"/api/checkins/{r.json()['checkin']['id']}", headers=bearer(token))
    value = json.loads(got.text, parse_float=Decimal)["checkin"]["lab_value"]
    assert Decimal(value) == Decimal(literal)
