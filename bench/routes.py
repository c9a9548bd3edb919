"""The route classes measured: each is one row of gateway/routes.py, called with fixed, realistic arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import psycopg

from gateway.routes import ROUTES, Route

# Check-ins written by the benchmark: a typical answer set (the generator's own check-ins vary).
CHECKIN_BODY: dict[str, Any] = {
    "mood_today": "hopeful",
    "confidence_today": 7,
    "anxiety_level": 4,
    "medication_taken": "yes",
    "side_effects": ["bloating", "fatigue"],
    "user_note": "Benchmark check-in",
}
DATE_PLACEHOLDER = "@DATE@"  # replaced per request by a fresh date (one check-in per user and date)
FIRST_DATE = "2001-01-01"  # writers' check-in dates start here, far from the generated history


@dataclass(frozen=True)
class RouteClass:
    key: str
    label: str
    method: str
    path: str
    args: dict[str, Any] = field(default_factory=dict)
    writes_checkins: bool = False  # each request needs a fresh (user, date): the writers' rotation

    @property
    def route(self) -> Route:
        for route in ROUTES:
            if route.method == self.method and route.path == self.path:
                return route
        raise LookupError(f"{self.method} {self.path} is not in gateway/routes.py")

    @property
    def function(self) -> str:
        return self.route.function

    def read_only(self, conn: psycopg.Connection) -> bool:
        """As the gateway decides it: the function is STABLE or IMMUTABLE (gateway/catalog.py)."""
        row = conn.execute("SELECT provolatile FROM pg_proc WHERE oid = to_regproc(%s)", (self.function,)).fetchone()
        return row is not None and row[0] in ("s", "i")

    def http_target(self) -> str:
        """Path and query string as sent over HTTP (GET arguments are the query)."""
        if self.method == "GET" and self.args:
            return f"{self.path}?{urlencode(self.args)}"
        return self.path

    def call_args(self) -> str:
        """The JSON the gateway passes to the function (query or body), DATE_PLACEHOLDER included."""
        return self.http_body() if self.method != "GET" else json.dumps(self.args, separators=(",", ":"))

    def http_body(self) -> str:
        """JSON body (POST); for check-ins it holds DATE_PLACEHOLDER where the date goes."""
        if self.method == "GET":
            return ""
        body = dict(self.args)
        if self.writes_checkins:
            body["date_submitted"] = DATE_PLACEHOLDER
        return json.dumps(body, separators=(",", ":"))


ROUTE_CLASSES: tuple[RouteClass, ...] = (
    RouteClass("list_checkins", "list check-ins", "GET", "/api/checkins"),
    RouteClass("timeline", "timeline (limit 100)", "GET", "/api/v2/health/timeline", {"limit": "100"}),
    RouteClass("daily_summary", "daily summary", "GET", "/api/v2/health/daily-summary"),
    RouteClass("analytics", "analytics (quarter)", "GET", "/api/v2/analytics", {"timeframe": "quarter"}),
    RouteClass("user_metrics", "user metrics", "GET", "/api/users/metrics"),
    RouteClass("daily_insight", "daily insight", "GET", "/api/insights/daily"),
    RouteClass(
        "create_event",
        "create event",
        "POST",
        "/api/v2/health/events",
        {"event_type": "sleep", "event_data": {"hours": 7.5, "quality": 7}},
    ),
    RouteClass("create_checkin", "create check-in", "POST", "/api/checkins", CHECKIN_BODY, writes_checkins=True),
)


def by_key(key: str) -> RouteClass:
    for rc in ROUTE_CLASSES:
        if rc.key == key:
            return rc
    raise KeyError(f"unknown route class {key!r}; known: {', '.join(r.key for r in ROUTE_CLASSES)}")
