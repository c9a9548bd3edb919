"""An OpenAPI 3.1 document generated from the route table; each operation's description is the COMMENT
of the SQL function behind it (read once at start-up; absent if the database is down then).

Request bodies are described per function (REQUEST_BODIES, from contract.md sections 2 to 5), so a client
generator or a fuzzer (schemathesis, tests/reliability/test_schemathesis.py) knows the fields. These
schemas document the contract; they do not validate anything: the SQL functions do, and a body that
breaks them gets the function's 400. They stay open (no additionalProperties: false) because check-ins
keep unknown keys verbatim and the other functions ignore them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import __version__, passwords
from .db import Database, Unavailable
from .routes import Route

ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error", "code"],
    "properties": {
        "success": {"const": False},
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {},
    },
}
SUCCESS_SCHEMA = {"type": "object", "required": ["success"], "properties": {"success": {"const": True}}}


# ------------------------------------------------------------------------------------------ request bodies
# A small vocabulary, then one line per function: its fields (name -> schema) and the required ones.


def _int(lo: int, hi: int, nullable: bool = True) -> dict[str, Any]:
    return {"type": ["integer", "null"] if nullable else "integer", "minimum": lo, "maximum": hi}


def _str(max_length: int | None = None, nullable: bool = True, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", **extra}
    if max_length is not None:
        out["maxLength"] = max_length
    return out


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


UUID = {"type": "string", "format": "uuid"}
# Engagement and feedback name an insight by any string of the client's: a UUID of one of the caller's
# insights is linked to it, anything else (the web app sends "<type>_<milliseconds>") is kept as a reference.
INSIGHT_REF = _str(
    200,
    description="The UUID of one of your insights (linked), or any reference of your own (kept as given).",
    examples=["6f1c2f0e-8d1b-4c39-9a55-0d6c1d2b9e10", "no_data_1796605127098"],
)
STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}
OBJECT = {"type": ["object", "null"]}
BOOL = {"type": ["boolean", "null"]}
CYCLE_STAGES = _enum(
    "considering", "ivf_prep", "stimulation", "retrieval", "transfer", "tww", "pregnant", "between_cycles"
)
MEDICATION_STATUSES = _enum(
    "taking", "starting_soon", "not_taking", "between_cycles", "finished_treatment", "pregnancy_support"
)
# Contract 2: the profile fields (signup takes them all; PUT /api/users/me all but email).
PROFILE: dict[str, Any] = {
    "nickname": _str(50),
    "confidence_meds": _int(1, 10),
    "confidence_costs": _int(1, 10),
    "confidence_overall": _int(1, 10),
    "timezone": _str(64, examples=["America/Los_Angeles", "Europe/Paris", "UTC"]),
    "email_opt_in": BOOL,
    "primary_need": _str(100),
    "cycle_stage": CYCLE_STAGES,
    "top_concern": _str(100),
    "medication_status": MEDICATION_STATUSES,
    "onboarding_path": _str(100),
    "baseline_completed": BOOL,
}
EMAIL = {"type": "string", "format": "email", "maxLength": 254}
# Contract 3.1: the check-in fields (every one stored and read back; other keys are kept verbatim too).
CHECKIN: dict[str, Any] = {
    "mood_today": _str(100, nullable=False, minLength=1),
    "confidence_today": _int(1, 10, nullable=False),
    "medication_taken": _enum("yes", "no", "partial", "not_applicable", "not tracked"),
    "user_note": _str(5000),
    "date_submitted": {"type": "string", "format": "date"},
    "primary_concern_today": _str(100),
    "anxiety_level": _int(1, 10),
    "side_effects": STRINGS,
    "missed_doses": _int(0, 50),
    "injection_confidence": _int(1, 10),
    "appointment_within_3_days": BOOL,
    "appointment_anxiety": _int(1, 10),
    "coping_strategies_used": STRINGS,
    "partner_involved_today": BOOL,
    "wish_knew_more_about": STRINGS,
    **{f"phq4_{item}": _int(0, 3) for item in ("feeling_nervous", "stop_worrying", "little_interest", "feeling_down")},
    "phq4_score": _int(0, 12),
    "phq4_anxiety": _int(0, 6),
    "phq4_depression": _int(0, 6),
    **{
        f"{topic}_today": {"type": ["integer", "string", "null"]}
        for topic in (
            "journey_reflection",
            "medication_confidence",
            "medication_readiness",
            "financial_confidence",
            "journey_confidence",
            "financial_stress",
            "journey_readiness",
        )
    },
    **{
        name: _str()
        for name in (
            "medication_concern_today",
            "financial_concern_today",
            "top_concern_today",
            "medication_momentum",
            "financial_momentum",
            "journey_momentum",
            "cycle_stage_update",
        )
    },
    "physical_symptoms": STRINGS,
    "symptom_severity": OBJECT,
    "sentiment_analysis": OBJECT,
}
# Contract 4: event_data by event_type (the required fields of public.event_types.rules, and every key with
# accepted values; the registry's full rules are enforced in SQL: this is what a client needs to write a
# valid event). tests/http/test_openapi.py checks the types and every enum against the database.
EVENT_DATA: dict[str, dict[str, Any]] = {
    "mood": {"mood": _str(100, nullable=False, minLength=1), "confidence": _int(1, 10, nullable=False)},
    "medication": {
        "status": _enum("taken", "missed", "skipped", "partial", "not_applicable", "not_tracked"),
    },
    "symptom": {"symptoms": {"type": "array", "items": {"type": "string"}, "maxItems": 100}},
    "assessment": {"instrument": _str(50, nullable=False, minLength=1)},
    "vital": {"kind": _str(50, nullable=False, minLength=1), "value": {"type": "number"}},
    "treatment": {"name": _str(200, nullable=False, minLength=1)},
    "appointment": {"kind": _str(100, nullable=False, minLength=1)},
    "note": {"text": _str(5000, nullable=False, minLength=1)},
    "sleep": {"hours": {"type": "number", "minimum": 0, "maximum": 24}},
    "exercise": {
        "activity": _str(100, nullable=False, minLength=1),
        "minutes": _int(0, 1440),
        "intensity": _enum("low", "moderate", "high"),
    },
    # posted by the web app's V2 client after each check-in
    "daily_checkin_completed": {
        "mood": _str(100, nullable=False, minLength=1),
        "confidence": _int(1, 10, nullable=False),
        "note": _str(5000),
    },
}
_EVENT_REQUIRED = {
    "mood": ["mood"],
    "vital": ["kind", "value"],
    "exercise": ["activity"],
    "daily_checkin_completed": ["mood", "confidence"],
}
EVENT_TYPES = _enum(*EVENT_DATA)


# Optional passwords (docs/accounts.md): 8-200 characters, hashed by the gateway, never stored or echoed.
PASSWORD = {"type": "string", "minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH, "writeOnly": True}


def _body(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "api.signup": _body({"email": EMAIL, "password": PASSWORD, **PROFILE}, ["email"]),
    "api.login": _body({"email": EMAIL, "password": PASSWORD}, ["email"]),
    "api.change_password": _body({"new_password": PASSWORD, "current_password": PASSWORD}, ["new_password"]),
    "api.update_me": _body(PROFILE),
    "api.update_baseline": _body(
        {k: PROFILE[k] for k in ("nickname", "confidence_meds", "confidence_costs", "confidence_overall")}
        | {"top_concern": PROFILE["top_concern"]}
    ),
    "api.update_cycle_stage": _body({"cycle_stage": CYCLE_STAGES}, ["cycle_stage"]),
    "api.update_medication_status": _body({"medication_status": MEDICATION_STATUSES}, ["medication_status"]),
    "api.create_checkin": _body(CHECKIN, ["mood_today", "confidence_today"]),
    "api.create_enhanced_checkin": _body(CHECKIN, ["mood_today", "confidence_today"]),
    "api.update_checkin": _body(CHECKIN),
    "api.create_micro_insight": _body({"onboardingData": OBJECT, "checkinData": OBJECT}),
    "api.record_engagement": _body(
        {
            "insight_type": _str(50, nullable=False, minLength=1),
            "action": _enum("viewed", "clicked", "dismissed", "refreshed", "liked", "saved"),
            "insight_id": INSIGHT_REF,
        },
        ["insight_type", "action"],
    ),
    "api.insight_feedback": _body(
        {
            "insight_id": {**INSIGHT_REF, "type": "string", "minLength": 1},
            "helpful": {"type": "boolean"},
            "comment": _str(2000),
        },
        ["insight_id", "helpful"],
    ),
    "api.create_event": _body(
        {
            "event_type": EVENT_TYPES,
            "event_subtype": _str(50),
            "event_data": {"type": "object"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "correlation_id": UUID,
            "related_event_id": UUID,
            "action": _enum("record", "correct", "retract"),
        },
        ["event_type", "event_data"],
        oneOf=[
            {
                "properties": {
                    "event_type": {"const": name},
                    "event_data": _body(fields, _EVENT_REQUIRED.get(name, list(fields))),
                }
            }
            for name, fields in EVENT_DATA.items()
        ],
    ),
}
QUERY_PARAMS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "api.list_checkins": [("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
    "api.timeline": [
        ("start_date", {"type": "string"}),
        ("end_date", {"type": "string"}),
        (
            "event_types",
            {
                "type": "string",
                "description": "comma list of event types: " + ", ".join(EVENT_TYPES["enum"]),
                "examples": ["mood,medication"],
            },
        ),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
        ("before", {"type": "string"}),
        ("include_history", {"type": "boolean"}),
    ],
    "api.daily_summary": [("date", {"type": "string", "format": "date"})],
    "api.analytics": [("timeframe", {"type": "string", "enum": ["week", "month", "quarter"]})],
    "api.list_insights": [("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
    "api.checkin_questions": [("date", {"type": "string", "format": "date"})],
}

COMMENTS_SQL = """
SELECT n.nspname || '.' || p.proname, d.description
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_description AS d ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass
WHERE n.nspname = 'api'
"""


async def _comments(db: Database) -> dict[str, str]:
    try:
        async with db.connection() as conn:
            rows = await (await conn.execute(COMMENTS_SQL)).fetchall()
    except (Unavailable, Exception):  # the document is still useful without descriptions
        return {}
    return {name: desc for name, desc in rows if desc}


def _operation(route: Route, comments: dict[str, str]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    params += [
        {"name": n, "in": "query", "required": False, "schema": s} for n, s in QUERY_PARAMS.get(route.function, [])
    ]
    if route.function in IDEMPOTENT:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    errors = {"400", "404", "413", "503"} | OTHER_ERRORS.get(route.function, set())
    if route.auth != "none":
        errors |= {"401", "403"}
    if route.method in {"POST", "PUT"}:
        errors.add("409")
    op: dict[str, Any] = {
        "operationId": route.function.replace("api.", "") + ("_" + route.path.strip("/").replace("/", "_")),
        "summary": f"{route.method} {route.path} → {route.function}",
        "description": comments.get(route.function, ""),
        "parameters": params,
        "responses": {
            str(route.status): {"description": "success", "content": {"application/json": {"schema": SUCCESS_SCHEMA}}},
            **{
                code: {"description": text, "content": {"application/json": {"schema": SUCCESS_SCHEMA}}}
                for code, text in OTHER_SUCCESS.get(route.function, {}).items()
            },
            **{
                code: {"description": "error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
                for code in sorted(errors)
            },
        },
    }
    if route.auth != "none":
        op["security"] = [{"bearer": []}] if route.auth == "required" else [{}, {"bearer": []}]
    if route.method in {"POST", "PUT", "PATCH"}:
        schema = REQUEST_BODIES.get(route.function, _body({}))
        required = bool(schema.get("required"))
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": schema}}}
    if route.function in LINKS and route.method == "POST":
        op["responses"][str(route.status)]["links"] = LINKS[route.function]
    return op


# Routes that honour an Idempotency-Key header (docs/reliability.md): a replay answers 200.
IDEMPOTENT = ("api.create_event", "api.create_checkin", "api.create_enhanced_checkin")

# Success statuses besides the route's own (a function's "_status" override).
OTHER_SUCCESS: dict[str, dict[str, str]] = {
    fn: {"200": "replay: the same Idempotency-Key and body again return the original answer"} for fn in IDEMPOTENT
}

# Error statuses besides the common ones: wrong password, and the login rate limits (docs/accounts.md).
OTHER_ERRORS: dict[str, set[str]] = {
    "api.login": {"401", "429"},
    "api.change_password": {"429"},
}

# Where a created check-in's id goes next (OpenAPI links, followed by stateful testing tools).
_CHECKIN_ID = {"id": "$response.body#/checkin/id"}
LINKS: dict[str, dict[str, Any]] = {
    fn: {
        "GetCheckin": {"operationId": "get_checkin_api_checkins_{id}", "parameters": _CHECKIN_ID},
        "UpdateCheckin": {"operationId": "update_checkin_api_checkins_{id}", "parameters": _CHECKIN_ID},
        "DeleteCheckin": {"operationId": "delete_checkin_api_checkins_{id}", "parameters": _CHECKIN_ID},
    }
    for fn in ("api.create_checkin", "api.create_enhanced_checkin")
}


async def build(db: Database, routes: Iterable[Route]) -> dict[str, Any]:
    comments = await _comments(db)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, comments)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Novara API (Schema V2)", "version": __version__},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
