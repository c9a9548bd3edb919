"""An OpenAPI 3.1 document generated from the route table and the database's catalog (gateway/catalog.py): each
operation's description is the COMMENT of the SQL function behind it, and the fields of check-ins, profiles and
event data, with their types, bounds and accepted values, come from the registries the SQL validates by
(checkin_fields, profile_fields, event_types). Nothing here repeats a rule the database holds.

Request bodies are described per function, so a client generator or a fuzzer (schemathesis,
tests/reliability/test_schemathesis.py) knows the fields. These schemas document; they do not validate: the SQL
functions do, and a body that breaks them gets the function's 400. They stay open (no additionalProperties:
false) because check-ins keep unknown keys verbatim and the other functions ignore them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import __version__, passwords
from .catalog import Catalog
from .db import LSN, LSN_HEADER
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


def _int(lo: int | None, hi: int | None, nullable: bool = True) -> dict[str, Any]:
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
EMAIL = {"type": "string", "format": "email", "maxLength": 254}
TIMEZONE_EXAMPLES = ["America/Los_Angeles", "Europe/Paris", "UTC"]


def _field(row: dict[str, Any], required: bool = False) -> dict[str, Any]:
    """The JSON schema of one registry row (checkin_fields or profile_fields: kind, bounds, accepted values).
    null means "not answered" (or clears the field), so every optional field also takes null."""
    kind, lo, hi, length = row["kind"], row.get("min_value"), row.get("max_value"), row.get("max_length")
    if kind == "enum":
        return _enum(*row["allowed"])
    if kind == "integer":
        return {k: v for k, v in _int(lo, hi, nullable=not required).items() if v is not None}
    if kind == "integer_or_string":  # a number within the bounds, or text within the length
        out = {"type": ["integer", "string", "null"], "minimum": lo, "maximum": hi, "maxLength": length}
        return {k: v for k, v in out.items() if v is not None}
    if kind in ("string", "timezone"):
        out = _str(length, nullable=not required, **({"minLength": 1} if required else {}))
        # an IANA name (public.timezones), matched case-insensitively; "time-zone" is this document's own format
        return {**out, "format": "time-zone", "examples": TIMEZONE_EXAMPLES} if kind == "timezone" else out
    if kind in ("string_array", "array"):
        items = {"type": "string", "maxLength": length or 1000} if kind == "string_array" else {}
        return {"type": ["array", "null"], "items": items, "maxItems": 100}
    return {"type": [kind, "null"]}  # boolean, object


def profile_schema(catalog: Catalog) -> dict[str, Any]:
    return {row["field"]: _field(row) for row in catalog.profile_fields}


def checkin_schema(catalog: Catalog) -> dict[str, Any]:
    fields = {row["field"]: _field(row, row["required"]) for row in catalog.checkin_fields}
    return {**fields, "date_submitted": {"type": "string", "format": "date"}}


def _rule(rule: dict[str, Any], required: bool) -> dict[str, Any]:
    """An event_types rule as JSON schema: the same keywords, except `items` (a type name there)."""
    out = {k: v for k, v in rule.items() if k != "items"}
    if "items" in rule:
        out["items"] = {"type": rule["items"]}
    kind = rule.get("type", "string")
    if not required and "enum" not in rule:
        out["type"] = [kind, "null"]
    return out


def event_data_schemas(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """event_data by event_type: the rules of public.event_types (keys not listed are allowed)."""
    out = {}
    for row in catalog.event_types:
        rules = row["rules"]
        required = list(rules.get("required", []))
        properties = {k: _rule(r, k in required) for k, r in rules.get("properties", {}).items()}
        out[row["event_type"]] = _body(properties, required)
    return out


# Optional passwords (docs/accounts.md): 8-200 characters, hashed by the gateway, never stored or echoed.
PASSWORD = {"type": "string", "minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH, "writeOnly": True}


def _body(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def request_bodies(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The JSON body of each function that takes one."""
    profile, checkin, events = profile_schema(catalog), checkin_schema(catalog), event_data_schemas(catalog)
    required_checkin = [row["field"] for row in catalog.checkin_fields if row["required"]]
    return {
        "api.signup": _body({"email": EMAIL, "password": PASSWORD, **profile}, ["email"]),
        "api.login": _body({"email": EMAIL, "password": PASSWORD}, ["email"]),
        "api.change_password": _body({"new_password": PASSWORD, "current_password": PASSWORD}, ["new_password"]),
        "api.update_me": _body(profile),
        "api.update_baseline": _body(
            {
                k: profile[k]
                for k in ("nickname", "confidence_meds", "confidence_costs", "confidence_overall", "top_concern")
            }
        ),
        "api.update_cycle_stage": _body({"cycle_stage": profile["cycle_stage"]}, ["cycle_stage"]),
        "api.update_medication_status": _body(
            {"medication_status": profile["medication_status"]}, ["medication_status"]
        ),
        "api.create_checkin": _body(checkin, required_checkin),
        "api.create_enhanced_checkin": _body(checkin, required_checkin),
        "api.update_checkin": _body(checkin),
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
                "event_type": _enum(*events),
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
                        "event_data": data,
                    }
                }
                for name, data in events.items()
            ],
        ),
    }


def query_params(catalog: Catalog) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The query parameters of each GET function that takes some."""
    event_types = [row["event_type"] for row in catalog.event_types]
    return {
        "api.list_checkins": [("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
        "api.timeline": [
            ("start_date", {"type": "string"}),
            ("end_date", {"type": "string"}),
            (
                "event_types",
                {
                    "type": "string",
                    "description": "comma list of event types: " + ", ".join(event_types),
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


def _operation(
    route: Route, catalog: Catalog, bodies: dict[str, Any], queries: dict[str, list[tuple[str, Any]]]
) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in queries.get(route.function, [])]
    if route.function in IDEMPOTENT:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    read_only = catalog.read_only(route.function)
    if read_only or (route.reader and catalog.read_only(route.reader)):
        # served by a standby when DATABASE_READ_URL is set, never older than this position
        params.append(
            {
                "name": LSN_HEADER,
                "in": "header",
                "required": False,
                "description": "the X-Novara-LSN of the caller's last write's answer: the read includes that write",
                "schema": {"type": "string", "pattern": LSN_PATTERN},
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
        "description": catalog.comment(route.function),
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
    if not read_only:  # the write's position in the WAL, for the reads that must include it
        op["responses"][str(route.status)]["headers"] = {
            LSN_HEADER: {
                "description": "the primary's WAL position after this call's commit, when the gateway reads from "
                "standbys (DATABASE_READ_URL): send it back on reads",
                "schema": {"type": "string", "pattern": LSN_PATTERN},
            }
        }
    if route.auth != "none":
        op["security"] = [{"bearer": []}] if route.auth == "required" else [{}, {"bearer": []}]
    if route.method in {"POST", "PUT", "PATCH"}:
        schema = bodies.get(route.function, _body({}))
        required = bool(schema.get("required"))
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": schema}}}
    if route.function in LINKS and route.method == "POST":
        op["responses"][str(route.status)]["links"] = LINKS[route.function]
    return op


LSN_PATTERN = LSN.pattern  # the shape of a WAL position

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


# The gateway's own routes (gateway/app.py OPERATIONAL): no SQL function behind them, so described here.
def _own(summary: str, description: str, media_type: str = "application/json", **extra: Any) -> dict[str, Any]:
    content = {media_type: {"schema": {"type": "string"} if media_type != "application/json" else {"type": "object"}}}
    responses: dict[str, Any] = {"200": {"description": "success", "content": content}}
    responses.update(extra.pop("responses", {}))
    return {"summary": summary, "description": description, "tags": ["operations"], "responses": responses, **extra}


_UNAVAILABLE = {"503": {"description": "the database is unreachable (`status: unavailable`, Retry-After)"}}
OPERATIONAL: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/"): _own(
        "GET / (the gateway)",
        "The gateway's banner: `{message, version, endpoints}`; `endpoints` names the operational routes and lists "
        "every route of the table.",
    ),
    ("GET", "/api/health"): _own(
        "GET /api/health (the gateway)",
        "Liveness with a database round trip: `{status: ok, timestamp, service, environment, version, startup}`; "
        "503 with `status: unavailable` while the database is unreachable. No authentication.",
        responses=_UNAVAILABLE,
    ),
    ("GET", "/api/health/detailed"): _own(
        "GET /api/health/detailed (the gateway)",
        "As /api/health, plus `checks: {database, schemaV2: enabled|disabled, migrations: <latest applied>, jwt}`.",
        responses=_UNAVAILABLE,
    ),
    ("GET", "/metrics"): _own(
        "GET /metrics (the gateway)",
        "Prometheus text format: requests and latency per route template and status, the connection pool, "
        'database reachability, token cache, build info (README, "Metrics"). No user data in any label. '
        "When METRICS_TOKEN is set, a bearer token equal to it is required (401 without, 403 with another).",
        media_type="text/plain",
        security=[{}, {"metricsToken": []}],
        responses={
            "401": {"description": "METRICS_TOKEN is set and no bearer token was sent"},
            "403": {"description": "the bearer token is not METRICS_TOKEN"},
        },
    ),
    ("GET", "/docs"): _own(
        "GET /docs (the gateway)",
        "This document as an interactive page (Swagger UI), its scripts and styles served by the gateway itself.",
        media_type="text/html",
    ),
    ("GET", "/openapi.json"): _own(
        "GET /openapi.json (the gateway)",
        "This document (OpenAPI 3.1): every route, its SQL function's description, fields and accepted values.",
        responses=_UNAVAILABLE,
    ),
}


def build(catalog: Catalog, routes: Iterable[Route]) -> dict[str, Any]:
    bodies, queries = request_bodies(catalog), query_params(catalog)
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONAL.items():
        operation_id = "gateway_" + (path.strip("/").replace("/", "_").replace(".", "_") or "root")
        paths.setdefault(path, {})[method.lower()] = {"operationId": operation_id, **op}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, catalog, bodies, queries)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Novara API (Schema V2)", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "metricsToken": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN, when set"},
            }
        },
    }
