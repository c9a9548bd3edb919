"""Run the app under uvicorn (uvloop + httptools) and say when it accepts requests."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from .app import create_app
from .settings import Settings


class _Server(uvicorn.Server):
    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.config.host, self.config.port
            for server in self.servers:
                for sock in server.sockets:
                    port = sock.getsockname()[1]
            print(f"Novara API listening on http://{host}:{port}", flush=True)


def serve(settings: Settings, database_url: str, jwt_secret: str, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"🔧 Schema V2: {'ENABLED' if settings.use_schema_v2 else 'DISABLED'}", flush=True)
    app = create_app(settings, database_url, jwt_secret)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    _Server(config).run()
