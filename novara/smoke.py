"""`novara smoke --url URL`: check a running gateway over HTTP, as a client would (standard library only).

Signs up a throwaway user (smoke-<random>@novara.invalid: it stays in the database, see docs/operations.md
for erasing it), writes and reads a check-in and an event, and reads the V2 views. While USE_SCHEMA_V2 is
off (as /api/v2/status reports), the V2 routes must answer 503 instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any, TextIO

from .steps import StepFailed, Steps, Unreachable, expect

DEFAULT_TIMEOUT_S = 10.0
V2_DISABLED_CODE = "SCHEMA_V2_DISABLED"


class Client:
    def __init__(self, base_url: str, timeout: float):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except TimeoutError:
            raise Unreachable(f"{self.base} did not answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise Unreachable(f"cannot connect to {self.base}: {reason}") from None
        try:
            payload = json.loads(raw)
        except ValueError:
            raise StepFailed(f"HTTP {status}, not JSON: {raw[:120]!r}") from None
        if not isinstance(payload, dict):
            raise StepFailed(f"HTTP {status}, not a JSON object: {raw[:120]!r}")
        return status, payload

    def call(
        self,
        method: str,
        path: str,
        expected: int | tuple[int, ...],
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a request that must answer with the expected status."""
        status, payload = self.request(method, path, body, headers)
        wanted = expected if isinstance(expected, tuple) else (expected,)
        if status not in wanted:
            error = payload.get("error") or payload.get("status") or payload
            code = f" ({payload['code']})" if "code" in payload else ""
            raise StepFailed(f"HTTP {status}, expected {'/'.join(map(str, wanted))}: {error}{code}")
        return payload


class Smoke:
    def __init__(self, client: Client):
        self.http = client
        self.email = f"smoke-{uuid.uuid4().hex[:12]}@novara.invalid"
        self.key = f"smoke-{uuid.uuid4().hex}"
        self.v2 = True
        self.state: dict[str, Any] = {}

    def need(self, key: str, step: str) -> Any:
        if key not in self.state:
            raise StepFailed(f"skipped: needs a passing `{step}` step")
        return self.state[key]

    def v2_off(self, method: str, path: str, body: dict[str, Any] | None = None) -> str | None:
        """While the flag is off a V2 route must answer 503 with the contract's code; None when it is on."""
        if self.v2:
            return None
        got = self.http.call(method, path, 503, body)
        expect(got.get("code") == V2_DISABLED_CODE, f"503 with code {got.get('code')}, expected {V2_DISABLED_CODE}")
        return "503 as expected (USE_SCHEMA_V2 is off)"

    def health(self) -> str:
        got = self.http.call("GET", "/api/health", 200)
        expect(got.get("status") == "ok", f"status is {got.get('status')!r}")
        return f"version {got.get('version')}, environment {got.get('environment')}"

    def status(self) -> str:
        got = self.http.call("GET", "/api/v2/status", 200)["status"]
        self.v2 = got["schema_v2_enabled"] is True
        return f"schema_v2_enabled={str(self.v2).lower()}, schema {got.get('schema_version')}"

    def signup(self) -> str:
        got = self.http.call("POST", "/api/auth/signup", 201, {"email": self.email, "nickname": "Smoke"})
        expect(bool(got.get("token")), "no token in the response")
        self.http.token = got["token"]
        self.state["user"] = got["user"]
        return self.email

    def post_checkin(self) -> None:
        self.need("user", "sign up")
        body = {"mood_today": "hopeful", "confidence_today": 7, "medication_taken": "yes", "user_note": "smoke"}
        checkin = self.http.call("POST", "/api/checkins", 201, body)["checkin"]
        expect(checkin["mood_today"] == "hopeful" and checkin["confidence_today"] == 7, "values differ")
        self.state["checkin"] = checkin

    def get_checkin(self) -> None:
        checkin = self.need("checkin", "POST /api/checkins")
        got = self.http.call("GET", f"/api/checkins/{checkin['id']}", 200)["checkin"]
        expect(got["id"] == checkin["id"] and got["user_note"] == "smoke", "read back differs")

    def _event(self) -> dict[str, Any]:
        return {"event_type": "mood", "event_subtype": "smoke", "event_data": {"mood": "hopeful", "confidence": 8}}

    def post_event(self) -> str | None:
        self.need("user", "sign up")
        if (note := self.v2_off("POST", "/api/v2/health/events", self._event())) is not None:
            return note
        got = self.http.call("POST", "/api/v2/health/events", 201, self._event(), {"Idempotency-Key": self.key})
        self.state["event"] = got["event"]
        return None

    def replay_event(self) -> str | None:
        if not self.v2:
            return "skipped (USE_SCHEMA_V2 is off)"
        event = self.need("event", "POST /api/v2/health/events")
        got = self.http.call("POST", "/api/v2/health/events", 200, self._event(), {"Idempotency-Key": self.key})
        expect(got["event"]["id"] == event["id"], "the replay created another event")
        return None

    def timeline(self) -> str | None:
        self.need("user", "sign up")
        if (note := self.v2_off("GET", "/api/v2/health/timeline")) is not None:
            return note
        event = self.need("event", "POST /api/v2/health/events")
        got = self.http.call("GET", "/api/v2/health/timeline?limit=100", 200)
        expect(event["id"] in {e["id"] for e in got["timeline"]}, "the event is not in the timeline")
        return f"{got['count']} events"

    def daily_summary(self) -> str | None:
        self.need("user", "sign up")
        if (note := self.v2_off("GET", "/api/v2/health/daily-summary")) is not None:
            return note
        summary = self.http.call("GET", "/api/v2/health/daily-summary", 200)["summary"]
        if "checkin" in self.state:
            expect(summary["check_in_completed"] is True, "check_in_completed is false")
        return None

    def analytics(self) -> str | None:
        self.need("user", "sign up")
        if (note := self.v2_off("GET", "/api/v2/analytics?timeframe=week")) is not None:
            return note
        got = self.http.call("GET", "/api/v2/analytics?timeframe=week", 200)["analytics"]
        if "checkin" in self.state:
            expect(got["checkin_count"] >= 1, f"checkin_count is {got['checkin_count']}")
        return f"{got['total_events']} events this week"

    def run(self, steps: Steps) -> None:
        for name, action in (
            ("GET /api/health", self.health),
            ("GET /api/v2/status", self.status),
            ("sign up (POST /api/auth/signup)", self.signup),
            ("POST /api/checkins", self.post_checkin),
            ("GET /api/checkins/{id}", self.get_checkin),
            ("POST /api/v2/health/events (Idempotency-Key)", self.post_event),
            ("POST /api/v2/health/events again (replay)", self.replay_event),
            ("GET /api/v2/health/timeline", self.timeline),
            ("GET /api/v2/health/daily-summary", self.daily_summary),
            ("GET /api/v2/analytics", self.analytics),
        ):
            steps.run(name, action)


def smoke(url: str, out: TextIO, *, timeout: float = DEFAULT_TIMEOUT_S) -> int:
    """Run every step against the gateway at `url`; 0 when all passed, 1 otherwise."""
    test = Smoke(Client(url, timeout))
    print(f"smoke test of {test.http.base}", file=out)
    steps = Steps(out)
    test.run(steps)
    code = steps.summary("smoke")
    if "user" in test.state:
        print(f"note: the throwaway user {test.email} stays in the database (docs/operations.md, Erasure)", file=out)
    return code
