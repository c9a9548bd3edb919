"""The route table: every contract route as one stored-function call. Read it at a glance.

Columns: method, path, the api.* function (V2 mode), auth, default status, and flags. Whether a call runs
read-only is not a column: it is the function's own volatility (STABLE or IMMUTABLE: a read-only transaction),
read from the database (gateway/catalog.py).
  v2_only   503 while USE_SCHEMA_V2 is off
  v1        the function serving the route while USE_SCHEMA_V2 is off (None: 503 until it exists)
  token     add a signed JWT for the returned user to the body (signup, login)
  flag      pass the USE_SCHEMA_V2 setting to the function as args.schema_v2_enabled (status)
  log       what the contract's per-call log line names in V2 mode ("🚀 Using Schema V2 for <log>")
  password  the route carries a password (Secret below): the gateway hashes it before the call, so the
            password itself never reaches the database, a log line or a response (docs/accounts.md)
  reader    a STABLE function that serves the route first, read-only (on a standby when DATABASE_READ_URL is
            set), when the route's own function may write; while it cannot answer read-only (it raises SQLSTATE
            25006: pending V1-mode writes to import, an insight not stored yet) the gateway calls the route's
            function on the primary ([read-only-first] in db/README.md)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["required", "optional", "none"]

# Called before a route whose Secret has a `typed` field: counts the attempt (429 over the limits) and returns
# the account's scrypt salt and cost, with which the gateway derives the key of the typed password.
LOGIN_BEGIN = "api.login_begin"


@dataclass(frozen=True)
class Secret:
    """Body fields holding a password. Every Secret route also gets args.require_password (AUTH_REQUIRE_PASSWORD).

    new    a password being set: 400 unless 8-200 characters, then replaced by `<new>_hash` (scrypt, fresh salt)
    typed  a password proving who one is: LOGIN_BEGIN runs first; replaced by `<typed>_key` (derived with the
           stored salt; null when absent or the account has none), `<typed>_given` and `attempt_id`
    """

    new: str | None = None
    typed: str | None = None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: Auth = "required"
    status: int = 200
    v2_only: bool = False
    v1: str | None = ""  # "" = same function in both modes; None = not available in V1 mode
    token: bool = False
    flag: bool = False
    log: str | None = None
    password: Secret | None = None
    reader: str | None = None


GET, POST, PUT, PATCH, DELETE = "GET", "POST", "PUT", "PATCH", "DELETE"
# the log lines operators grep for (docs/operations.md)
CREATION, RETRIEVAL = "check-in creation", "check-ins retrieval"

ROUTES: tuple[Route, ...] = (
    # status ----------------------------------------------------------------------------------------------
    Route(GET, "/api/v2/status", "api.status", auth="optional", flag=True),
    # accounts --------------------------------------------------------------------------------------------
    Route(POST, "/api/users", "api.signup", auth="none", status=201, token=True, password=Secret(new="password")),
    Route(POST, "/api/auth/signup", "api.signup", auth="none", status=201, token=True, password=Secret(new="password")),
    Route(POST, "/api/auth/login", "api.login", auth="none", token=True, password=Secret(typed="password")),
    Route(
        PUT,
        "/api/users/password",
        "api.change_password",
        password=Secret(new="new_password", typed="current_password"),
    ),
    Route(GET, "/api/users/me", "api.me"),
    Route(PUT, "/api/users/me", "api.update_me"),
    Route(GET, "/api/users/me/export", "api.export_me"),  # the caller's data, all of it (GDPR access, portability)
    Route(GET, "/api/users/profile", "api.profile"),
    Route(PATCH, "/api/users/baseline", "api.update_baseline"),
    Route(POST, "/api/users/complete-onboarding", "api.complete_onboarding"),
    Route(PATCH, "/api/users/cycle-stage", "api.update_cycle_stage"),
    Route(PATCH, "/api/users/medication-status", "api.update_medication_status"),
    # daily check-ins (V1 API) — literal paths before {id} ------------------------------------------------
    Route(POST, "/api/checkins", "api.create_checkin", status=201, v1="api.v1_create_checkin", log=CREATION),
    Route(GET, "/api/checkins", "api.list_checkins", v1="api.v1_list_checkins", log=RETRIEVAL),
    Route(GET, "/api/checkins/today", "api.today_checkin", v1="api.v1_today_checkin", log=RETRIEVAL),
    Route(GET, "/api/checkins/last-values", "api.last_values", v1="api.v1_last_values", log=RETRIEVAL),
    Route(GET, "/api/checkins/questions", "api.checkin_questions"),
    Route(GET, "/api/checkins/{id}", "api.get_checkin", v1="api.v1_get_checkin", log=RETRIEVAL),
    Route(PUT, "/api/checkins/{id}", "api.update_checkin", v1="api.v1_update_checkin"),
    Route(DELETE, "/api/checkins/{id}", "api.delete_checkin", v1="api.v1_delete_checkin"),
    Route(
        POST,
        "/api/daily-checkin-enhanced",
        "api.create_enhanced_checkin",
        status=201,
        v1="api.v1_create_enhanced_checkin",
        log=CREATION,
    ),
    # insights and user metrics (SQL over the check-ins and the event log; the same functions in both modes) -------
    Route(GET, "/api/insights/daily", "api.daily_insight", reader="api.daily_insight_read_only"),
    Route(GET, "/api/insights", "api.list_insights"),
    Route(GET, "/api/insights/micro", "api.micro_insight"),
    Route(POST, "/api/insights/micro", "api.create_micro_insight"),
    Route(GET, "/api/insights/engagement", "api.engagement"),
    Route(POST, "/api/insights/engagement", "api.record_engagement"),
    Route(POST, "/api/insights/feedback", "api.insight_feedback"),
    Route(GET, "/api/users/metrics", "api.user_metrics"),
    # Schema V2 -------------------------------------------------------------------------------------------
    Route(POST, "/api/v2/health/events", "api.create_event", status=201, v2_only=True),
    Route(GET, "/api/v2/health/timeline", "api.timeline", v2_only=True, reader="api.timeline_read_only"),
    Route(GET, "/api/v2/health/daily-summary", "api.daily_summary", v2_only=True, reader="api.daily_summary_read_only"),
    Route(GET, "/api/v2/analytics", "api.analytics", v2_only=True, reader="api.analytics_read_only"),
)


def function_for(route: Route, use_schema_v2: bool) -> str | None:
    """The function serving `route` in the current mode, or None when the route is unavailable."""
    if use_schema_v2:
        return route.function
    if route.v2_only:
        return None
    return route.function if route.v1 == "" else route.v1
