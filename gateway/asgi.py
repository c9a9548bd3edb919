"""ASGI entry point for multi-worker serving: `uvicorn --factory gateway.asgi:create`.

Reads its settings from the environment; `novara serve --workers N` sets DATABASE_URL and JWT_SECRET
(the embedded server's URL, the generated secret) before starting the workers.
"""

from __future__ import annotations

from starlette.applications import Starlette

from . import logs
from .app import create_app
from .settings import ensure_jwt_secret, load


def create() -> Starlette:
    settings = load()
    logs.configure(settings.log_format)
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set (novara serve sets it for its workers)")
    return create_app(settings, settings.database_url, ensure_jwt_secret(settings))
