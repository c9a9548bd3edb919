"""`novara selftest`: exercise the api.* functions on the configured database, leaving nothing behind.

Everything runs as one throwaway user inside ONE transaction that is rolled back at the end. Each call is
made as the gateway makes it (role novara_api and request.jwt.claims set transaction-locally; GET routes
read-only) inside a SAVEPOINT, so a failing step is reported and the next steps still run. After the
rollback, a last step checks that the user is gone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TextIO

import psycopg
from psycopg.types.json import Jsonb

from gateway.db import GATEWAY_ROLE, call_statement

from .metric_views import describe_error
from .steps import StepFailed, Steps, Unreachable, expect, unexpected

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 10000
SAVEPOINT = "novara_selftest_step"

# Every check-in field (public.checkin_fields), with values the read-back must return unchanged
# (date_submitted is added).
CHECKIN: dict[str, Any] = {
    "mood_today": "hopeful, anxious",
    "confidence_today": 7,
    "medication_taken": "yes",
    "user_note": "selftest note\nsecond line",
    "primary_concern_today": "medication timing",
    "anxiety_level": 4,
    "side_effects": ["bloating", "headache"],
    "missed_doses": 0,
    "injection_confidence": 8,
    "appointment_within_3_days": True,
    "appointment_anxiety": 5,
    "coping_strategies_used": ["breathing", "a walk"],
    "partner_involved_today": True,
    "wish_knew_more_about": ["side effects"],
    "phq4_feeling_nervous": 1,
    "phq4_stop_worrying": 1,
    "phq4_little_interest": 0,
    "phq4_feeling_down": 1,
    "phq4_score": 3,
    "phq4_anxiety": 2,
    "phq4_depression": 1,
}
EVENT: dict[str, Any] = {
    "event_type": "mood",
    "event_subtype": "selftest",
    "event_data": {"mood": "hopeful", "confidence": 8},
}


def describe(err: Exception) -> str:
    if not isinstance(err, psycopg.Error):
        return unexpected(err)
    if err.diag.message_detail:
        return f"{describe_error(err)} {err.diag.message_detail}"
    return describe_error(err)


class Gateway:
    """Calls api.* functions with the gateway's own statement (gateway.db.call_statement), each inside a savepoint
    of one open transaction."""

    def __init__(self, conn: psycopg.Connection[Any]):
        self.conn = conn
        self.claims: dict[str, Any] | None = None

    def call(self, function: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        read_only = self.read_only(function)
        query = call_statement(f"api.{function}", read_only)
        claims = json.dumps(self.claims, separators=(",", ":")) if self.claims else ""
        conn = self.conn
        try:
            conn.execute(f"SAVEPOINT {SAVEPOINT}")
            try:
                conn.execute("SELECT set_config('role', %s, true)", (GATEWAY_ROLE,))
                row = conn.execute(query, (Jsonb(args or {}), claims)).fetchone()
            except psycopg.Error:
                if not conn.closed:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                    conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
                raise
            if read_only:  # undo transaction_read_only for the next calls; a read wrote nothing to keep
                conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
            conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        except psycopg.OperationalError as err:
            if conn.closed:
                raise Unreachable(f"lost the database connection: {describe_error(err)}") from err
            raise
        result = row[0] if row else None
        if not isinstance(result, dict) or result.get("success") is not True:
            raise StepFailed(f"unexpected result: {result!r}")
        return result

    def read_only(self, function: str) -> bool:
        """As the gateway decides it: the function is STABLE or IMMUTABLE (gateway/catalog.py)."""
        volatility = self.scalar("SELECT provolatile FROM pg_proc WHERE oid = to_regproc(%s)", (f"api.{function}",))
        return volatility in ("s", "i")

    def scalar(self, query: str, params: tuple[Any, ...]) -> Any:
        row = self.conn.execute(query, params).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


class Selftest:
    def __init__(self, gw: Gateway, schema_v2_enabled: bool):
        self.gw = gw
        self.schema_v2_enabled = schema_v2_enabled
        self.email = f"selftest-{uuid.uuid4().hex[:12]}@novara.invalid"
        self.idempotency_key = f"selftest-{uuid.uuid4().hex}"
        self.state: dict[str, Any] = {}

    def need(self, key: str, step: str) -> Any:
        if key not in self.state:
            raise StepFailed(f"skipped: needs a passing `{step}` step")
        return self.state[key]

    def signup(self) -> str:
        user = self.gw.call("signup", {"email": self.email, "nickname": "Selftest", "timezone": "UTC"})["user"]
        expect(user["email"] == self.email, f"signup returned email {user['email']!r}")
        self.state["user"] = user
        self.gw.claims = {"id": user["id"], "email": user["email"], "nickname": user["nickname"]}
        return self.email

    def me(self) -> None:
        user = self.need("user", "signup")
        got = self.gw.call("me")["user"]
        expect(got["id"] == user["id"], f"me returned user {got['id']} instead of {user['id']}")

    def create_checkin(self) -> None:
        user = self.need("user", "signup")
        today = self.gw.scalar("SELECT to_char((now() AT TIME ZONE %s)::date, 'YYYY-MM-DD')", (user["timezone"],))
        body = {**CHECKIN, "date_submitted": today}
        checkin = self.gw.call("create_checkin", body)["checkin"]
        wrong = [k for k, v in body.items() if checkin.get(k) != v or checkin["fields"].get(k) != v]
        expect(not wrong, f"read back differs for {', '.join(wrong)}")
        self.state["checkin"] = checkin

    def list_checkins(self) -> None:
        checkin = self.need("checkin", "create check-in")
        got = self.gw.call("list_checkins", {"limit": "30"})
        expect(got["count"] == 1, f"count is {got['count']}, expected 1")
        expect(got["records"][0]["id"] == checkin["id"], "the listed check-in is not the one created")

    def get_checkin(self) -> None:
        checkin = self.need("checkin", "create check-in")
        got = self.gw.call("get_checkin", {"id": checkin["id"]})["checkin"]
        expect(got == checkin, "get returned other values than create")

    def update_checkin(self) -> None:
        checkin = self.need("checkin", "create check-in")
        got = self.gw.call("update_checkin", {"id": checkin["id"], "confidence_today": 9})["checkin"]
        expect(got["confidence_today"] == 9, f"confidence_today is {got['confidence_today']}, expected 9")
        expect(got["user_note"] == CHECKIN["user_note"], "an absent field lost its value")

    def today(self) -> None:
        checkin = self.need("checkin", "create check-in")
        got = self.gw.call("today_checkin")
        expect(got["hasCheckedIn"] is True, "hasCheckedIn is false")
        expect(got["checkin"]["id"] == checkin["id"], "today's check-in is not the one created")

    def last_values(self) -> None:
        self.need("checkin", "create check-in")
        got = self.gw.call("last_values")
        expect(got["hasValues"] is True, "hasValues is false")
        expect(got["last_values"]["mood_today"] == CHECKIN["mood_today"], "last_values has another mood")

    def create_event(self) -> None:
        self.need("user", "signup")
        event = self.gw.call("create_event", {**EVENT, "idempotency_key": self.idempotency_key})["event"]
        expect(event["event_data"] == EVENT["event_data"], "event_data differs")
        self.state["event"] = event

    def replay_event(self) -> None:
        event = self.need("event", "create event")
        got = self.gw.call("create_event", {**EVENT, "idempotency_key": self.idempotency_key})
        expect(got["event"]["id"] == event["id"], "the replay created another event")
        expect(got.get("_status") == 200, f"replay status {got.get('_status')}, expected 200")

    def timeline(self) -> None:
        event = self.need("event", "create event")
        checkin = self.need("checkin", "create check-in")
        events = self.gw.call("timeline", {"limit": "100"})["timeline"]
        expect(event["id"] in {e["id"] for e in events}, "the event is not in the timeline")
        expect(checkin["id"] in {e["correlation_id"] for e in events}, "the check-in's events are not in it")

    def daily_summary(self) -> None:
        self.need("checkin", "create check-in")
        summary = self.gw.call("daily_summary")["summary"]
        expect(summary["check_in_completed"] is True, "check_in_completed is false")

    def analytics(self) -> None:
        self.need("checkin", "create check-in")
        analytics = self.gw.call("analytics", {"timeframe": "week"})["analytics"]
        expect(analytics["checkin_count"] == 1, f"checkin_count is {analytics['checkin_count']}, expected 1")

    def status(self) -> str:
        status = self.gw.call("status", {"schema_v2_enabled": self.schema_v2_enabled})["status"]
        expect(status["schema_v2_enabled"] is self.schema_v2_enabled, "schema_v2_enabled differs from the flag")
        return f"schema {status.get('schema_version')}"

    def delete_checkin(self) -> None:
        checkin = self.need("checkin", "create check-in")
        self.gw.call("delete_checkin", {"id": checkin["id"]})
        expect(self.gw.call("list_checkins")["count"] == 0, "the check-in is still listed")

    def run(self, steps: Steps) -> None:
        for name, action in (
            ("signup", self.signup),
            ("me", self.me),
            ("create check-in (every field)", self.create_checkin),
            ("list check-ins", self.list_checkins),
            ("get check-in", self.get_checkin),
            ("update check-in", self.update_checkin),
            ("today", self.today),
            ("last-values", self.last_values),
            ("create event", self.create_event),
            ("create event again (idempotent replay)", self.replay_event),
            ("timeline", self.timeline),
            ("daily summary", self.daily_summary),
            ("analytics", self.analytics),
            ("status", self.status),
            ("delete check-in", self.delete_checkin),
        ):
            steps.run(name, action)

    def check_gone(self) -> str:
        """After the rollback: logging in as the throwaway user must say it does not exist."""
        self.gw.claims = None
        try:
            self.gw.call("login", {"email": self.email})
        except psycopg.Error as err:
            if err.sqlstate == "NV404":
                return "(the throwaway user is gone)"
            raise
        finally:
            self.gw.conn.rollback()
        raise StepFailed(f"{self.email} still exists after the rollback")


def selftest(url: str, out: TextIO, *, schema_v2_enabled: bool = True) -> int:
    """Run every step; 0 when all passed, 1 otherwise."""
    try:
        conn = psycopg.connect(
            url, connect_timeout=CONNECT_TIMEOUT_S, options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        )
    except psycopg.OperationalError as err:
        print(f"❌ cannot connect to the database: {describe_error(err)}", file=out)
        return 1
    steps = Steps(out, describe=describe)
    with conn:
        test = Selftest(Gateway(conn), schema_v2_enabled)
        print(
            f"selftest on database {conn.info.dbname!r} as {conn.info.user!r}: throwaway user {test.email}, "
            "one transaction, rolled back at the end",
            file=out,
        )
        test.run(steps)
        if not conn.closed:
            conn.rollback()
        steps.run("rolled back: nothing left", test.check_gone)
    return steps.summary("selftest")
