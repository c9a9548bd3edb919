"""Log lines in one of two formats (LOG_FORMAT): `text`, the human line (the default, unchanged), or `json`, one
JSON object per line for log shippers.

A JSON line always has `time` (ISO 8601, UTC, milliseconds), `level` and `message`; the request line adds `method`,
`route` (the route's template, `/api/checkins/{id}`, never the raw path: ids stay out of the logs), `status`, `ms`
and `request_id`. Any line logged while a request is being served carries that request's `request_id`, so a
`❌ Check-in creation error` can be matched to its request. Each request has an id: the client's `X-Request-Id`
when it is a plain token of at most 128 characters, else a generated one; the response returns it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("novara_request_id", default=None)
# A client's id is echoed into logs and a response header: printable token characters only, bounded.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
# Attributes a record may carry (logging's `extra=`) that the JSON line keeps as fields of its own.
FIELDS = ("method", "route", "status", "ms", "url")

_format = "text"


def request_id(header: str | None) -> str:
    """The id of a request: the client's X-Request-Id when it is acceptable, else a new one (32 hex digits)."""
    if header and _CLIENT_ID.match(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key in FIELDS:
            if key in record.__dict__:
                out[key] = record.__dict__[key]
        rid = record.__dict__.get("request_id") or REQUEST_ID.get()
        if rid:
            out["request_id"] = rid
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)


def configure(log_format: str) -> None:
    """Route every log record (ours, uvicorn's) to stderr as text or JSON; called once per process."""
    global _format
    _format = log_format
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def say(message: str, **fields: Any) -> None:
    """A line for stdout at start and stop (`🔧 Schema V2: ENABLED`, `Novara API listening on …`): as it is in text
    mode, as a JSON object (with `fields`) in JSON mode."""
    if _format == "json":
        line = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "level": "info"}
        line.update(message=message, **fields)
        message = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    print(message, file=sys.stdout, flush=True)


def request_line(log: logging.Logger, method: str, path: str, route: str, status: int, ms: float) -> None:
    """The per-request line: `GET /api/checkins 200 8.4ms` in text mode (no query string, token or body); in JSON
    mode the route template instead of the path."""
    if _format == "json":
        log.info("request", extra={"method": method, "route": route, "status": status, "ms": round(ms, 1)})
    else:
        log.info("%s %s %d %.1fms", method, path, status, ms)
