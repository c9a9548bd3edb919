"""The Starlette application: a route table and the handlers behind it.

Issue 2 (foundation) serves the operational routes; the contract's other routes are added to ROUTES
as one stored-function call each.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import __version__
from .db import Database, Unavailable
from .migrate import LATEST_APPLIED_SQL
from .settings import Settings

log = logging.getLogger("novara")


class JSON(Response):
    """Compact UTF-8 JSON (no spaces after ':' or ',')."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def error(status: int, message: str, code: str, **extra: Any) -> JSON:
    return JSON({"success": False, "error": message, "code": code, **extra}, status_code=status)


async def root(request: Request) -> JSON:
    return JSON(
        {
            "message": "Novara API is running",
            "version": __version__,
            "endpoints": {
                "health": "/api/health",
                "health_detailed": "/api/health/detailed",
            },
        }
    )


def _health_body(settings: Settings, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "timestamp": now_iso(),
        "service": "Novara API",
        "environment": settings.environment,
        "version": __version__,
        "startup": "ready",
    }


async def health(request: Request) -> JSON:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    try:
        await db.fetch_one("SELECT 1")
    except Unavailable:
        return JSON(_health_body(settings, "unavailable"), status_code=503, headers={"Retry-After": "2"})
    return JSON(_health_body(settings, "ok"))


async def health_detailed(request: Request) -> JSON:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    try:
        row = await db.fetch_one(LATEST_APPLIED_SQL)
    except Unavailable:
        return JSON(_health_body(settings, "unavailable"), status_code=503, headers={"Retry-After": "2"})
    body = _health_body(settings, "ok")
    body["checks"] = {
        "database": "postgresql",
        "schemaV2": "enabled" if settings.use_schema_v2 else "disabled",
        "migrations": row[0] if row else None,
        "jwt": "configured",
    }
    return JSON(body)


# The route table: (method, path, handler). Read it at a glance.
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/", root),
    ("GET", "/api/health", health),
    ("GET", "/api/health/detailed", health_detailed),
]


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return JSON({"success": False, "error": "Endpoint not found", "path": request.url.path}, 404)
    if exc.status_code == 405:
        body = {"success": False, "error": "Method not allowed", "code": "METHOD_NOT_ALLOWED"}
        return JSON(body, 405, headers=dict(exc.headers or {}))
    return error(exc.status_code, str(exc.detail), "HTTP_ERROR")


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, "Internal server error", "INTERNAL_ERROR")


def create_app(settings: Settings, database_url: str, jwt_secret: str) -> Starlette:
    db = Database(database_url, settings.db_pool_max)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=[Route(path, handler, methods=[method]) for method, path, handler in ROUTES],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.jwt_secret = jwt_secret
    return app
