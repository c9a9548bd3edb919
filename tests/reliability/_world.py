"""Two users with data, on the real app and a fresh database: the fixture of the auth and isolation tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import load
from tests._http import bearer
from tests.conftest import SECRET


class World:
    """Users A (the attacker) and B (the victim), each with a check-in, an event and an insight."""

    def __init__(self, client: TestClient):
        self.client = client
        self.requests = 0
        self.server_errors: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        for name in ("a", "b"):
            r = client.post(
                "/api/auth/signup",
                json={
                    "email": f"{name}@example.com",
                    "nickname": name.upper(),
                    "confidence_meds": 5,
                    "confidence_costs": 5,
                    "confidence_overall": 5,
                    "primary_need": "emotional_support",
                    "cycle_stage": "ivf_prep",
                },
            )
            assert r.status_code == 201, r.text
            token, user = r.json()["token"], r.json()["user"]
            h = bearer(token)
            checkin = client.post("/api/checkins", json={"mood_today": "hopeful", "confidence_today": 7}, headers=h)
            event = client.post(
                "/api/v2/health/events", json={"event_type": "note", "event_data": {"text": name}}, headers=h
            )
            insight = client.get("/api/insights/daily", headers=h)
            assert (checkin.status_code, event.status_code, insight.status_code) == (201, 201, 200), insight.text
            self.users[name] = {
                **user,
                "token": token,
                "checkin_id": checkin.json()["checkin"]["id"],
                "event_id": event.json()["event"]["id"],
                "insight_id": insight.json()["insight"]["id"],
            }

    def send(self, method: str, path: str, body: Any, authorization: str | None) -> Any:
        # raw bytes: a real client can send any octets (non-ASCII, NUL) in a header
        headers = {} if authorization is None else {"Authorization": authorization.encode("utf-8")}
        r = self.client.request(method, path, json=body, headers=headers)
        self.requests += 1
        if r.status_code >= 500:
            self.server_errors.append(
                f"{method} {path} -> {r.status_code} {r.text[:200]} auth={str(authorization)[:80]}"
            )
        return r

    def snapshot(self, name: str) -> Any:
        """What the user's own token shows of their data (to prove nothing changed)."""
        h = bearer(self.users[name]["token"])
        me = self.client.get("/api/users/me", headers=h).json()["user"]
        checkins = self.client.get("/api/checkins", headers=h).json()["checkins"]
        timeline = self.client.get("/api/v2/health/timeline?include_history=true", headers=h).json()["timeline"]
        insights = self.client.get("/api/insights", headers=h).json()["insights"]
        engagement = self.client.get("/api/insights/engagement", headers=h).json()["engagement"]
        return me, checkins, sorted(e["id"] for e in timeline), insights, engagement


@pytest.fixture
def world(gateway_url: str) -> Iterator[World]:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "true"})
    app = create_app(settings, gateway_url, SECRET)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(client)
