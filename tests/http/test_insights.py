"""Insights and metrics through the real app: insights, micro insights, engagement, feedback, metrics, questions.

Also: two sessions asking for the day's first insight at once get one stored insight.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from starlette.testclient import TestClient

METRIC_KEYS = {
    "medicationAdherenceRate",
    "medicationAdherenceTrend",
    "missedDosesLastWeek",
    "totalMedicationCheckIns",
    "averageMoodScore",
    "currentPHQ4Score",
    "phq4Trend",
    "anxietyAverage",
    "checkInStreak",
    "totalCheckIns",
    "insightEngagementRate",
    "insightInteractionRate",
    "copingStrategiesUsed",
    "mostEffectiveStrategy",
    "partnerInvolvementRate",
    "cycleCompletionProbability",
    "riskFactors",
    "protectiveFactors",
}


def signup(client: TestClient, **fields: object) -> tuple[dict[str, str], dict[str, Any]]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post("/api/auth/signup", json={"email": email, **fields})
    assert r.status_code == 201, r.text
    body = r.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["user"]


def local_today(tz: str = "America/Los_Angeles") -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def test_daily_insight_gate_then_one_per_day(client: TestClient) -> None:
    h, user = signup(client, nickname="Ann", onboarding_path="test")
    r = client.get("/api/insights/daily", headers=h)
    assert r.status_code == 403
    assert r.json() == {
        "success": False,
        "error": "Complete your profile to unlock personalized insights",
        "code": "ONBOARDING_REQUIRED",
        "requires_onboarding_completion": True,
        "user_status": {
            "onboarding_path": "test",
            "baseline_completed": False,
            "has_nickname": True,
            "has_primary_need": False,
            "has_cycle_stage": False,
        },
    }
    assert client.patch("/api/users/baseline", headers=h, json={"confidence_meds": 3}).status_code == 200
    today = local_today()
    for days_ago, mood in ((2, "sad"), (1, "okay"), (0, "great")):
        day = (today - dt.timedelta(days=days_ago)).isoformat()
        body = {"mood_today": mood, "confidence_today": 6, "medication_taken": "yes", "date_submitted": day}
        assert client.post("/api/checkins", headers=h, json=body).status_code == 201

    r = client.get("/api/insights/daily", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["insight"]["type"] == "mood_improvement"
    assert body["insight"]["title"] == "Your mood is lifting"
    assert body["insight"]["message"].startswith("Your mood score rose from 2.0 to 9.0 over your last 3 check-ins.")
    assert body["insight"]["confidence"] == 0.64
    assert body["analysis_data"]["checkins_analyzed"] == 3
    assert body["analysis_data"]["user_id"] == user["id"]
    assert body["analysis_data"]["date_range"] == f"{today - dt.timedelta(days=6)} to {today}"
    again = client.get("/api/insights/daily", headers=h).json()
    assert again == body, "asking twice the same local day returns the same insight"
    summary = client.get("/api/v2/health/daily-summary", headers=h).json()["summary"]
    assert [i["id"] for i in summary["insights"]] == [body["insight"]["id"]]

    listed = client.get("/api/insights", headers=h).json()
    assert listed["success"] is True and listed["count"] == 1
    assert listed["insights"][0]["id"] == body["insight"]["id"]
    assert listed["insights"][0]["date"] == today.isoformat()
    r = client.get("/api/insights?limit=0", headers=h)
    assert r.status_code == 400 and r.json()["error"] == "limit must be between 1 and 100"
    assert client.get("/api/insights").status_code == 401


def test_micro_insights(client: TestClient) -> None:
    h, _ = signup(client, nickname="Bo", confidence_costs=2)
    r = client.get("/api/insights/micro", headers=h)
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "insight": {
            "type": "welcome",
            "message": "Welcome, Bo! 🌱",
            "subMessage": "Your first check-in takes less than a minute.",
            "icon": "🌱",
        },
    }
    r = client.post("/api/insights/micro", headers=h, json={"checkinData": {"mood_today": "sad", "anxiety_level": 9}})
    assert r.status_code == 200
    assert r.json()["micro_insight"]["action"] == {"label": "Try a breathing exercise", "type": "breathing"}
    r = client.post("/api/insights/micro", headers=h, json={"onboardingData": {"nickname": "Bea"}})
    micro = r.json()["micro_insight"]
    assert (micro["type"], micro["title"]) == ("financial", "Costs feel heavy right now")
    r = client.post("/api/insights/micro", headers=h)
    assert r.status_code == 200 and r.json()["micro_insight"]["type"] == "financial", "empty body = {}"
    r = client.post("/api/insights/micro", headers=h, json={"checkinData": ["x"]})
    assert r.status_code == 400 and r.json()["error"] == "checkinData must be an object"


def test_engagement_and_feedback_are_per_user(client: TestClient) -> None:
    ha, _ = signup(client, nickname="A", primary_need="x", cycle_stage="tww")
    hb, _ = signup(client, nickname="B", primary_need="x", cycle_stage="tww")
    ia = client.get("/api/insights/daily", headers=ha).json()["insight"]["id"]
    ib = client.get("/api/insights/daily", headers=hb).json()["insight"]["id"]

    r = client.post(
        "/api/insights/engagement", headers=ha, json={"insight_type": "daily", "action": "viewed", "insight_id": ia}
    )
    assert r.status_code == 200 and r.json() == {"success": True, "message": "Engagement recorded"}
    client.post(
        "/api/insights/engagement", headers=ha, json={"insight_type": "daily", "action": "saved", "insight_id": ia}
    )
    r = client.post("/api/insights/engagement", headers=ha, json={"insight_type": "daily", "action": "shared"})
    assert r.status_code == 400
    assert r.json()["error"] == "action must be one of: viewed, clicked, dismissed, refreshed, liked, saved"
    r = client.post("/api/insights/engagement", headers=ha, json={"action": "viewed"})
    assert r.status_code == 400 and r.json()["error"] == "Missing required fields: insight_type, action"
    r = client.post(
        "/api/insights/engagement", headers=ha, json={"insight_type": "d", "action": "liked", "insight_id": ib}
    )
    assert r.status_code == 200 and r.json() == {"success": True, "message": "Engagement recorded"}, (
        "B's insight is not linked: kept as A's own reference, answered like any unknown id"
    )
    client.post("/api/insights/engagement", headers=hb, json={"insight_type": "micro", "action": "dismissed"})

    a = client.get("/api/insights/engagement", headers=ha).json()["engagement"]
    assert a["summary"]["insights_viewed"] == 1 and a["summary"]["engagement_rate"] == 100
    assert [(i["insight_type"], i["viewed"], i["saved"], i["total"]) for i in a["insights"]] == [
        ("daily", 1, 1, 2),
        ("d", 0, 0, 1),
    ]
    b = client.get("/api/insights/engagement", headers=hb).json()["engagement"]
    assert b["summary"]["insights_viewed"] == 0 and b["summary"]["engagement_rate"] == 0
    assert [(i["insight_type"], i["dismissed"]) for i in b["insights"]] == [("micro", 1)]
    assert "email" not in json.dumps(b), "no other user's identity in the figures"

    r = client.post("/api/insights/feedback", headers=ha, json={"helpful": True})
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "error": "Missing required fields: insight_id, helpful",
        "code": "VALIDATION_ERROR",
        "fields": ["insight_id", "helpful"],
    }
    r = client.post("/api/insights/feedback", headers=ha, json={"insight_id": ia, "helpful": False, "comment": "meh"})
    assert r.status_code == 200 and r.json()["feedback"]["helpful"] is False
    r = client.post("/api/insights/feedback", headers=hb, json={"insight_id": ia, "helpful": True})
    assert r.status_code == 200 and r.json()["feedback"]["linked"] is False, "A's insight is not linked by B"
    metrics = client.get("/api/users/metrics", headers=ha).json()["metrics"]
    assert metrics["insightInteractionRate"] == 100, "A's engagement with A's insights"
    assert metrics["insightEngagementRate"] == 0, "the daily check-in rate: no check-in yet"
    assert client.get("/api/users/metrics", headers=hb).json()["metrics"]["insightInteractionRate"] == 0


def test_metrics_and_questions(client: TestClient) -> None:
    h, _ = signup(client, nickname="Cy", confidence_overall=2)
    today = local_today()
    for days_ago in (0, 1, 3):
        body = {
            "mood_today": "hopeful",
            "confidence_today": "7",
            "medication_taken": "partial",
            "missed_doses": 1,
            "coping_strategies_used": ["walk", "yoga\n"],
            "partner_involved_today": days_ago == 0,
            "date_submitted": (today - dt.timedelta(days=days_ago)).isoformat(),
        }
        assert client.post("/api/checkins", headers=h, json=body).status_code == 201
    r = client.get("/api/users/metrics", headers=h)
    assert r.status_code == 200
    metrics = r.json()["metrics"]
    assert set(metrics) == METRIC_KEYS
    assert metrics["checkInStreak"] == 2
    assert metrics["totalCheckIns"] == 3
    assert metrics["medicationAdherenceRate"] == 50.0
    assert metrics["missedDosesLastWeek"] == 3
    assert metrics["averageMoodScore"] == 7.0
    assert metrics["copingStrategiesUsed"] == ["walk", "yoga"]
    assert metrics["partnerInvolvementRate"] == 33
    assert metrics["currentPHQ4Score"] is None

    r = client.get("/api/checkins/questions", headers=h)
    assert r.status_code == 200, "the literal path wins over /api/checkins/{id}"
    body = r.json()
    assert body["metadata"]["focus_dimension"] == "journey"
    assert body["metadata"]["focus_reason"] == "low_confidence"
    assert body["metadata"]["date"] == today.isoformat()
    assert [q["id"] for q in body["questions"]][:2] == ["mood_today", "confidence_today"]
    assert all(q["id"].startswith(("mood", "confidence", "journey")) for q in body["questions"])
    assert body["personalization_summary"]["onboarding_confidence"] == {"medication": 5, "financial": 5, "journey": 2}
    r = client.get("/api/checkins/questions?date=2000-01-02", headers=h)
    assert r.json()["metadata"]["rotation_dimension"] == "financial"
    assert client.get("/api/checkins/questions?date=yesterday", headers=h).status_code == 400


def test_two_sessions_ask_for_the_first_insight_of_the_day(db_url: str) -> None:
    """The second session waits on the unique index, then returns the first session's insight."""
    with psycopg.connect(db_url, autocommit=True) as setup:
        setup.execute("SELECT set_config('request.jwt.claims', '{\"email\": \"race@example.com\"}', false)")
        setup.execute(
            'SELECT api.signup(\'{"email": "race@example.com", "nickname": "R", "baseline_completed": true}\')'
        )
    claims = json.dumps({"email": "race@example.com"})
    results: list[str] = []

    def ask(conn: psycopg.Connection) -> str:
        conn.execute(
            "SELECT set_config('request.jwt.claims', %s, true), set_config('role', 'novara_api', true)", [claims]
        )
        row = conn.execute("SELECT api.daily_insight() #>> '{insight,id}'").fetchone()
        assert row is not None
        return str(row[0])

    with psycopg.connect(db_url) as first, psycopg.connect(db_url) as second:
        results.append(ask(first))  # inserted, not yet committed

        def second_session() -> None:
            results.append(ask(second))
            second.commit()

        thread = threading.Thread(target=second_session)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second session waits for the first one's row"
        first.commit()
        thread.join(timeout=20)
        assert not thread.is_alive()
    assert len(results) == 2 and results[0] == results[1]
    with psycopg.connect(db_url) as check:
        count = check.execute("SELECT count(*) FROM public.insights").fetchone()
        assert count == (1,)


def _ask_daily(conn: psycopg.Connection, claims: str) -> str:
    """api.daily_insight as the gateway calls it (claims and role transaction-local); the transaction stays open."""
    conn.execute("SELECT set_config('request.jwt.claims', %s, true), set_config('role', 'novara_api', true)", [claims])
    row = conn.execute("SELECT api.daily_insight() #>> '{insight,id}'").fetchone()
    assert row is not None
    return str(row[0])


def _checkin(db_url: str, claims: str, body: dict[str, Any]) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [claims])
        conn.execute("SELECT api.create_checkin(%s::jsonb)", [json.dumps(body)])


def _insight_ids(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [str(r[0]) for r in conn.execute("SELECT id FROM public.insights ORDER BY created_at, id").fetchall()]


def test_after_a_checkin_two_sessions_store_one_new_insight(db_url: str) -> None:
    """The inputs changed: the first session stores the new insight; the second waits for it on the unique
    (user, day, inputs) index and returns the same row. Then a burst of sessions at once: still one row."""
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    claims = json.dumps({"email": email})
    with psycopg.connect(db_url, autocommit=True) as setup:
        setup.execute("SELECT set_config('request.jwt.claims', %s, false)", [claims])
        setup.execute("SELECT api.signup(%s::jsonb)", [json.dumps({"email": email, "baseline_completed": True})])
        first = _ask_daily(setup, claims)
    _checkin(db_url, claims, {"mood_today": "anxious", "confidence_today": 3, "anxiety_level": 9})
    results: list[str] = []
    with psycopg.connect(db_url) as one, psycopg.connect(db_url) as two, psycopg.connect(db_url) as watch:
        results.append(_ask_daily(one, claims))  # the new insight, not yet committed
        waiter = two.info.backend_pid

        def second_session() -> None:
            results.append(_ask_daily(two, claims))
            two.commit()

        thread = threading.Thread(target=second_session)
        thread.start()
        waiting = False
        for _ in range(600):  # until the second session waits on a lock (at most a minute on a busy machine)
            row = watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [waiter]).fetchone()
            watch.commit()
            if row is not None and row[0] == "Lock":
                waiting = True
                break
            thread.join(timeout=0.1)
        assert waiting, "the second session waits for the first one's row"
        one.commit()
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert len(results) == 2 and results[0] == results[1] != first
    assert _insight_ids(db_url) == [first, results[0]], "one new row; the earlier insight stays"

    _checkin(db_url, claims, {"mood_today": "hopeful", "confidence_today": 7, "date_submitted": "2025-01-01"})
    sessions = 6
    barrier = threading.Barrier(sessions)
    burst: list[str] = [""] * sessions

    def ask(i: int) -> None:
        with psycopg.connect(db_url) as conn:
            barrier.wait(timeout=60)
            burst[i] = _ask_daily(conn, claims)
            conn.commit()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(set(burst)) == 1 and burst[0] not in ("", first, results[0]), burst
    assert _insight_ids(db_url) == [first, results[0], burst[0]]
