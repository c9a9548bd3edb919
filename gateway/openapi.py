"""An OpenAPI 3.1 document generated from the route table; each operation's description is the COMMENT
of the SQL function behind it (read once at start-up; absent if the database is down then)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import __version__
from .db import Database, Unavailable
from .routes import Route

ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {},
    },
}
SUCCESS_SCHEMA = {"type": "object", "required": ["success"], "properties": {"success": {"const": True}}}
QUERY_PARAMS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "api.list_checkins": [("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
    "api.timeline": [
        ("start_date", {"type": "string"}),
        ("end_date", {"type": "string"}),
        ("event_types", {"type": "string"}),
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
        async with db.pool.connection(timeout=2) as conn:
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
    if route.function == "api.create_event":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}})
    errors = {"400", "404", "413", "503"}
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
                code: {"description": "error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
                for code in sorted(errors)
            },
        },
    }
    if route.auth != "none":
        op["security"] = [{"bearer": []}] if route.auth == "required" else [{}, {"bearer": []}]
    if route.method in {"POST", "PUT", "PATCH"}:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return op


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
