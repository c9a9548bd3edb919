"""The existing web app's whole session, request by request as it sends them, through the real gateway.

Sign-up (the full form, or the fast path followed by the baseline panel), the profile, the welcome micro
insight, the dashboard's look for today's check-in, Insights opened before checking in, a quick check-in
(with the V2 client's event after it), the detailed check-in that replaces it (nulls for unanswered fields),
metrics, the daily insight with its engagement and feedback, "Get New Insight", the V2 daily summary and
status, then log out and in. Each answer is checked for what the app does with it.

The app never sends a time zone, so every profile here keeps the default America/Los_Angeles, and it sends
date_submitted from the device's calendar. The device is in a zone ahead of the profile's (Kiritimati,
Tokyo, Berlin), the same (Los Angeles) or behind it (Pago Pago). The server's clock cannot be moved, so each
expectation is computed from the current instant: the user's today is the later of the profile's date and
the device's (docs/design-v2.md, "A user's today"). If a calendar date changes while a session runs, the
session is played again with the new dates.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests._http import DATE, ISO, UUID, assert_shape

PROFILE_ZONE = "America/Los_Angeles"
DEVICES = ["Pacific/Kiritimati", "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "Pacific/Pago_Pago"]


def local_date(zone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(zone)).date()


def millis() -> int:
    return int(time.time() * 1000)


class App:
    """The app's requests (as its components build them), against the test client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = self.client.request(method, path, headers=self.h, json=body)
        assert r.status_code == status, (method, path, body, r.status_code, r.text[:500])
        data = r.json()
        assert data["success"] is True, data
        return data

    def engagement(self, insight: dict[str, Any], action: str) -> None:
        # DailyInsightsDisplay.trackEngagement: the id is the app's own "<type>_<milliseconds>"; reply ignored
        body = {"insight_type": insight["type"], "action": action, "insight_id": f"{insight['type']}_{millis()}"}
        assert self.ok("POST", "/api/insights/engagement", body) == {"success": True, "message": "Engagement recorded"}

    def feedback(self, insight_id: str, helpful: bool, text: str | None = None) -> dict[str, Any]:
        # InsightFeedback.submitFeedback (comment: `text || undefined`, so absent without text)
        body: dict[str, Any] = {
            "insight_id": insight_id,
            "helpful": helpful,
            "insight_context": {
                "sentiment": "neutral",
                "copy_variant_used": "support_needed",
                "confidence_factors": {"confidence": 0.74},
            },
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if text:
            body["comment"] = text
        return self.ok("POST", "/api/insights/feedback", body)["feedback"]


def fast_onboarding_form(email: str, cycle_stage: str, primary_need: str) -> dict[str, Any]:
    """NovaraLanding.handleFastOnboardingComplete: OnboardingFast's answers over the full form's state."""
    return {
        "email": email,
        "nickname": "",
        "confidence_meds": 5,
        "confidence_costs": 5,
        "confidence_overall": 5,
        "primary_need": primary_need,
        "cycle_stage": cycle_stage,
        "top_concern": "",
        "email_opt_in": True,
        "baseline_completed": False,
        "onboarding_path": "test",
    }


# OnboardingFast's choices (the fast path's form), as its select lists offer them
FAST_CYCLE_STAGES = [
    "considering",
    "ivf_prep",
    "stimulation",
    "retrieval",
    "transfer",
    "tww",
    "pregnant",
    "between_cycles",
]
FAST_NEEDS = ["emotional_support", "medication_guidance", "financial_planning", "procedure_info", "community"]


def test_every_fast_onboarding_choice_signs_up(client: TestClient) -> None:
    """Each cycle stage and each need the fast path offers creates the account, stored as chosen."""
    app = App(client)
    for i, stage in enumerate(FAST_CYCLE_STAGES):
        need = FAST_NEEDS[i % len(FAST_NEEDS)]
        email = f"fast-{stage}-{uuid.uuid4().hex[:8]}@example.com"
        user = app.ok("POST", "/api/users", fast_onboarding_form(email, stage, need), status=201)["user"]
        assert (user["cycle_stage"], user["primary_need"], user["baseline_completed"]) == (stage, need, False)


def sign_up(app: App, path: str, email: str) -> dict[str, Any]:
    """NovaraLanding: the full form (handleSignup) or the fast path (handleFastOnboardingComplete + baseline)."""
    form = {
        "email": email,
        "nickname": "Maya",
        "confidence_meds": 3,
        "confidence_costs": 6,
        "confidence_overall": 7,
        "primary_need": "emotional_support",
        "cycle_stage": "stimulation",
        "top_concern": "",
        "email_opt_in": True,
    }
    if path == "fast":
        # OnboardingFast's three answers over the form's initial state
        form = fast_onboarding_form(email, "ivf_prep", "medication_guidance")
    body = app.ok("POST", "/api/users", form, status=201)
    app.token = body["token"]
    user = body["user"]
    assert UUID(user["id"]) and ISO(user["created_at"]) and user["email"] == email
    assert user["timezone"] == PROFILE_ZONE, "the app sends no time zone"
    if path == "fast":
        assert user["baseline_completed"] is False and user["onboarding_path"] == "test"
        r = app.client.get("/api/insights/daily", headers=app.h)
        assert r.status_code == 403 and r.json()["requires_onboarding_completion"] is True, r.text
        baseline = {
            "nickname": "Maya",
            "confidence_meds": 3,
            "confidence_costs": 6,
            "confidence_overall": 7,
            "top_concern": "injections",
            "baseline_completed": True,
        }
        user = app.ok("PATCH", "/api/users/baseline", baseline)["user"]
        assert user["nickname"] == "Maya" and user["top_concern"] == "injections"
    assert user["baseline_completed"] is True
    return user


def find_todays_checkin(app: App, device_day: str) -> dict[str, Any] | None:
    """NovaraLanding.checkForTodaysCheckin: the last 3 records, matched on fields.date_submitted."""
    records = app.ok("GET", "/api/checkins?limit=3")["records"]
    return next(
        ((r.get("fields") or r) for r in records if (r.get("fields") or r)["date_submitted"] == device_day), None
    )


def session(client: TestClient, path: str, device: str, today: dt.date, device_day: dt.date) -> None:
    app = App(client)
    email = f"maya-{uuid.uuid4().hex[:10]}@example.com"
    user = sign_up(app, path, email)
    assert app.ok("GET", "/api/users/me")["user"] == user

    # WelcomeInsight: a micro insight from the onboarding answers
    micro = app.ok("POST", "/api/insights/micro", {"onboardingData": {"email": email, "nickname": "Maya"}})
    assert_shape(micro["micro_insight"], {"title": str, "message": str})

    # the dashboard looks for today's check-in: none yet
    assert find_todays_checkin(app, device_day.isoformat()) is None

    # Insights opened before checking in
    first = app.ok("GET", "/api/insights/daily")
    assert first["insight"]["type"] == "no_data" and first["analysis_data"]["checkins_analyzed"] == 0
    app.engagement(first["insight"], "viewed")

    # QuickDailyCheckinForm, then the V2 client's event (api-v2 submitCheckin)
    quick = {
        "mood_today": "hopeful",
        "confidence_today": 7,
        "medication_taken": "yes",
        "user_note": "Quick check-in: Took all medications",
        "date_submitted": device_day.isoformat(),
    }
    created = app.ok("POST", "/api/checkins", quick, status=201)["checkin"]
    assert created["date_submitted"] == device_day.isoformat()
    event = app.ok(
        "POST",
        "/api/v2/health/events",
        {"event_type": "daily_checkin_completed", "event_data": {"mood": "hopeful", "confidence": 7}},
        status=201,
    )["event"]
    assert ISO(event["created_at"]) and event["created_at"] == event["recorded_at"]

    todays = find_todays_checkin(app, device_day.isoformat())
    assert todays is not None and todays["id"] == created["id"], "the dashboard finds the check-in it just made"
    recent = app.ok("GET", "/api/checkins?limit=7")
    assert [c["id"] for c in recent["checkins"]] == [created["id"]] and recent["count"] == 1

    # EnhancedDailyCheckinForm replaces today's check-in (PUT), unanswered fields as null
    detailed = {
        "mood_today": "anxious",
        "confidence_today": 4,
        "medication_taken": "yes",
        "user_note": "",
        "date_submitted": device_day.isoformat(),
        "primary_concern_today": "anxiety_management",
        "anxiety_level": 9,
        "side_effects": None,
        "missed_doses": None,
        "injection_confidence": 7 if user["cycle_stage"] == "stimulation" else None,
        "appointment_within_3_days": None,
        "appointment_anxiety": None,
        "coping_strategies_used": ["Deep breathing"],
        "partner_involved_today": None,
        "wish_knew_more_about": None,
    }
    updated = app.ok("PUT", f"/api/checkins/{created['id']}", detailed)["checkin"]
    for key, value in detailed.items():
        assert updated[key] == value, key

    # the user's today: the device's date whenever it is ahead of the profile's
    checked = app.ok("GET", "/api/checkins/today")
    assert checked["date"] == today.isoformat()
    assert checked["hasCheckedIn"] is (device_day == today)

    # OutcomeMetricsDashboard
    m = app.ok("GET", "/api/users/metrics")["metrics"]
    assert_shape(
        m,
        {
            "medicationAdherenceRate": (int, float),
            "medicationAdherenceTrend": lambda v: v in {"improving", "stable", "declining"},
            "missedDosesLastWeek": int,
            "totalMedicationCheckIns": int,
            "currentPHQ4Score": None,
            "phq4Trend": None,
            "anxietyAverage": (int, float),
            "checkInStreak": int,
            "totalCheckIns": int,
            "insightEngagementRate": int,
            "copingStrategiesUsed": [str],
            "partnerInvolvementRate": (int, float),
            "cycleCompletionProbability": int,
            "riskFactors": [str],
            "protectiveFactors": [str],
        },
    )
    assert m["totalCheckIns"] == 1 and m["checkInStreak"] == 1
    assert m["insightEngagementRate"] == 100, "Daily Check-in Rate: 1 check-in on the first day"
    assert m["anxietyAverage"] == 9 and m["averageMoodScore"] == 3
    assert m["medicationAdherenceRate"] == 100 and m["totalMedicationCheckIns"] == 1
    assert m["missedDosesLastWeek"] == 0 and m["medicationAdherenceTrend"] == "stable"
    assert m["copingStrategiesUsed"] == ["Deep breathing"] and m["mostEffectiveStrategy"] == "Deep breathing"

    # DailyInsightsDisplay: computed from the check-in made after Insights was first opened
    daily = app.ok("GET", "/api/insights/daily")
    insight = daily["insight"]
    assert insight["type"] == "support_needed" and insight["id"] != first["insight"]["id"]
    assert_shape(insight, {"id": UUID, "type": str, "title": str, "message": str, "icon": str, "confidence": float})
    assert daily["analysis_data"]["checkins_analyzed"] == 1
    assert daily["analysis_data"]["date_range"] == f"{today - dt.timedelta(days=6)} to {today}"
    app.engagement(insight, "viewed")
    app.engagement(insight, "clicked")
    assert app.feedback(insight["id"], True)["linked"] is True
    # "Get New Insight": nothing changed, the same insight
    app.engagement(insight, "refreshed")
    assert app.ok("GET", "/api/insights/daily") == daily
    app.feedback(insight["id"], False, "Too general for me")

    # the V2 client's daily summary and status
    summary = app.ok("GET", "/api/v2/health/daily-summary")["summary"]
    assert summary["date"] == today.isoformat() and DATE(summary["date"])
    assert summary["check_in_completed"] is (device_day == today)
    assert {k: summary["insights"][0][k] for k in ("type", "title", "message", "icon")} == {
        k: insight[k] for k in ("type", "title", "message", "icon")
    }
    assert all(ISO(e["created_at"]) for e in summary["events"])
    assert app.ok("GET", "/api/v2/status")["status"]["schema_v2_enabled"] is True

    # log out, log in (AuthContext: email only), and the same insight
    app.token = ""
    login = app.client.post("/api/auth/login", json={"email": email})
    assert login.status_code == 200 and login.json()["userExists"] is True
    app.token = login.json()["token"]
    assert app.ok("GET", "/api/users/me")["user"]["id"] == user["id"]
    assert app.ok("GET", "/api/insights/daily")["insight"]["id"] == insight["id"]


def replay_while_dates_hold(play: Callable[[dt.date, dt.date], None], device: str) -> None:
    """Play with (today, device day) as of now; again if a calendar date changed meanwhile."""
    for _ in range(3):
        profile_day, device_day = local_date(PROFILE_ZONE), local_date(device)
        try:
            play(max(profile_day, device_day), device_day)
        except AssertionError:
            if (local_date(PROFILE_ZONE), local_date(device)) == (profile_day, device_day):
                raise
            continue
        if (local_date(PROFILE_ZONE), local_date(device)) == (profile_day, device_day):
            return
    raise AssertionError("the dates kept changing during the session")


@pytest.mark.parametrize("path", ["full", "fast"])
@pytest.mark.parametrize("device", DEVICES)
def test_the_apps_session(client: TestClient, device: str, path: str) -> None:
    replay_while_dates_hold(lambda today, day: session(client, path, device, today, day), device)
