"""User A, with a valid token, probes user B's data through every door the HTTP API has.

B's check-in and event ids in paths and bodies get the same 404 as an id that does not exist
(`Check-in not found`, `Event not found`: existence never leaks); B's insight id named in an engagement or
a feedback is not linked and is kept as A's own reference, answered exactly like an unknown UUID (the
insight_id there is any string of the client's); any user_id, email,
id or cursor of B's in a query string or a body is ignored (A gets A's own data, A's writes land on A);
no response to A contains any of B's identifiers or B's email; B's data is unchanged afterwards.
db/tests/test_isolation.sql runs the same probes in SQL as the gateway's role (same outcomes).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from tests._http import bearer
from tests._report import Report
from tests.reliability._world import World, world

__all__ = ["world"]


def b_secrets(w: World) -> list[str]:
    b = w.users["b"]
    return [b["id"], b["email"], b["checkin_id"], b["event_id"], b["insight_id"]]


def test_a_cannot_reach_b(world: World, report: Report) -> None:
    a, b = world.users["a"], world.users["b"]
    before = world.snapshot("b")
    a_before = world.snapshot("a")
    token = f"Bearer {a['token']}"
    b_cursor = world.client.get("/api/v2/health/timeline?limit=1", headers=bearer(b["token"])).json()
    leaks: list[str] = []
    failures: list[str] = []

    def probe(
        method: str, path: str, body: Any = None, status: int = 200, error: str | None = None, echo: str = ""
    ) -> Any:
        r = world.send(method, path, body, token)
        for secret in b_secrets(world):
            if secret in r.text and secret != echo:
                leaks.append(f"{method} {path}: B's {secret} in the response")
        if r.status_code != status or (error is not None and r.json().get("error") != error):
            failures.append(f"{method} {path} {body}: {r.status_code} {r.text[:200]} (expected {status} {error})")
        return r

    # B's ids in paths and bodies: the not-found of an unknown id, never 403
    unknown = str(uuid.uuid4())
    for checkin_id in (b["checkin_id"], unknown):
        probe("GET", f"/api/checkins/{checkin_id}", status=404, error="Check-in not found")
        probe("PUT", f"/api/checkins/{checkin_id}", {"mood_today": "hacked"}, 404, "Check-in not found")
        probe("DELETE", f"/api/checkins/{checkin_id}", status=404, error="Check-in not found")
    answers: list[Any] = []
    for insight_id in (b["insight_id"], unknown):
        r = probe("POST", "/api/insights/feedback", {"insight_id": insight_id, "helpful": False}, echo=insight_id)
        answers.append({k: v for k, v in r.json()["feedback"].items() if k not in {"id", "created_at", "updated_at"}})
        r = probe(
            "POST",
            "/api/insights/engagement",
            {"insight_type": "daily", "action": "dismissed", "insight_id": insight_id},
            echo=insight_id,
        )
        answers.append(r.json())
    assert answers[0] == {**answers[2], "insight_id": b["insight_id"]}, "B's insight: the answer to an unknown id"
    assert answers[0]["linked"] is False and answers[1] == answers[3]
    for event_id in (b["event_id"], unknown):
        for action in ("correct", "retract"):
            body = {"action": action, "related_event_id": event_id, "event_type": "note", "event_data": {"text": "x"}}
            probe("POST", "/api/v2/health/events", body, 404, "Event not found")
    # B's identity in query strings: ignored, A's own data comes back
    foreign = {"user_id": b["id"], "email": b["email"], "id": b["checkin_id"], "userId": b["id"]}
    q = "?" + urlencode(foreign)
    for path in (
        "/api/checkins",
        "/api/checkins/today",
        "/api/checkins/last-values",
        "/api/users/me",
        "/api/users/profile",
        "/api/users/metrics",
        "/api/insights",
        "/api/insights/engagement",
        "/api/insights/micro",
        "/api/v2/health/daily-summary",
        "/api/v2/analytics",
    ):
        probe("GET", path + q)
    r = probe("GET", "/api/v2/health/timeline?" + urlencode({**foreign, "include_history": "true", "limit": 1000}))
    assert {e["user_id"] for e in r.json()["timeline"]} == {a["id"]}
    if b_cursor.get("next_before"):  # B's paging cursor pages through A's timeline only
        r = probe("GET", "/api/v2/health/timeline?" + urlencode({"before": b_cursor["next_before"], **foreign}))
        assert {e["user_id"] for e in r.json()["timeline"]} <= {a["id"]}
    r = probe("GET", "/api/checkins" + q)
    assert [c["user_id"] for c in r.json()["checkins"]] == [a["id"]]
    # B's identity in bodies: ignored, the write lands on A
    r = probe("PUT", "/api/users/me", {"user_id": b["id"], "email": b["email"], "id": b["id"], "nickname": "A2"})
    assert r.json()["user"]["id"] == a["id"] and r.json()["user"]["nickname"] == "A2"
    r = probe(
        "PUT",
        f"/api/checkins/{a['checkin_id']}",
        {"user_id": b["id"], "id": b["checkin_id"], "user_note": "mine"},
    )
    assert r.json()["checkin"]["id"] == a["checkin_id"] and r.json()["checkin"]["user_id"] == a["id"]
    r = probe(
        "POST",
        "/api/v2/health/events",
        {"user_id": b["id"], "event_type": "note", "event_data": {"text": "mine"}, "correlation_id": b["checkin_id"]},
        201,
        echo=b["checkin_id"],  # A's own event, labelled with the uuid A chose: an echo, not a leak
    )
    assert r.json()["event"]["user_id"] == a["id"]
    r = probe(
        "POST",
        "/api/checkins",
        {"user_id": b["id"], "mood_today": "ok", "confidence_today": 5, "date_submitted": "2025-06-01"},
        201,
    )
    assert r.json()["checkin"]["user_id"] == a["id"]

    after = world.snapshot("b")
    report(requests=world.requests, failures=len(failures) + len(leaks) + len(world.server_errors))
    assert not world.server_errors, world.server_errors
    assert not failures, "\n".join(failures)
    assert not leaks, "\n".join(leaks)
    assert after == before, "B's data changed"
    assert world.snapshot("a") != a_before, "A's own writes landed (the probes were real)"
    # B still sees exactly B's own rows
    me, checkins, events, insights, _engagement = after
    assert me["id"] == b["id"] and [c["user_id"] for c in checkins] == [b["id"]]
    assert b["event_id"] in events and [i["id"] for i in insights] == [b["insight_id"]]
