"""ASGI entry point for multi-worker serving: `uvicorn --factory gateway.asgi:create`.

Reads its settings from the environment; `novara serve --workers N` sets DATABASE_URL and JWT_SECRET
(the embedded server's URL, the generated secret) before starting the workers.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from .app import create_app
from .settings import ensure_jwt_secret, load


def create() -> Starlette:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set (novara serve sets it for its workers)")
    return create_app(settings, settings.database_url, ensure_jwt_secret(settings))
