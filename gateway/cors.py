"""CORS: Starlette's middleware, except that an origin it does not allow gets no Access-Control-* header at all.

Starlette adds `Access-Control-Allow-Credentials: true` (and, on a preflight, the allowed methods and headers)
to its answer to any origin, allowed or not. A browser still blocks the disallowed origin, since
Allow-Origin is missing, but an answer that says "credentials allowed" to an origin we never allowed invites
a misreading (and a proxy that adds Allow-Origin would turn it into a hole). Here, such an answer carries
only `Vary: Origin`.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Send


def _strip(headers: MutableHeaders) -> None:
    for name in [k for k in headers if k.lower().startswith("access-control-")]:
        del headers[name]
    headers.add_vary_header("Origin")


class StrictCORS(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if not self.is_allowed_origin(request_headers["origin"]):
            _strip(response.headers)
        return response

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if message["type"] == "http.response.start" and origin is not None and not self.is_allowed_origin(origin):
            _strip(MutableHeaders(scope=message))
            await send(message)
            return
        await super().send(message, send, request_headers)
