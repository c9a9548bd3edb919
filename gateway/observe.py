"""The outermost middleware: per request, an id (X-Request-Id, honoured or generated, and returned), one log line
(gateway/logs.py) and the request's count and latency (gateway/metrics.py), labelled with the route's template.

The template is the path of the route the router matched (Starlette leaves it in scope["route"]): the route
table's `/api/checkins/{id}`, never the path with the id in it. A path no route matches counts as `(unmatched)`.
"""

from __future__ import annotations

import logging
import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .metrics import UNMATCHED, Metrics

log = logging.getLogger("novara")


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return str(getattr(route, "path", UNMATCHED))


class Observe:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        rid = logs.request_id(_header(scope, b"x-request-id"))
        token = logs.REQUEST_ID.set(rid)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            logs.request_line(log, scope["method"], scope["path"], route, status, seconds * 1000)
            logs.REQUEST_ID.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
