"""The Starlette application: operational routes, and one generic handler for every route of the table.

The handler parses and size-checks the body, verifies the JWT, calls the route's one api.* function (as
the gateway role, with the claims set transaction-locally) and maps its JSON result or SQLSTATE to HTTP.
No business rule lives here. The one transformation: a route flagged `password` has its password fields
replaced by a scrypt hash or derived key (gateway/passwords.py), because the database cannot hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from . import __version__, auth, docs_ui, jsonx, metrics, openapi, passwords
from .catalog import CatalogCache
from .cors import StrictCORS
from .db import LSN, LSN_HEADER, CallError, Database, Unavailable, read_call
from .observe import Observe
from .routes import CREATION, LOGIN_BEGIN, ROUTES, Route, Secret, function_for
from .settings import Settings

log = logging.getLogger("novara")

MAX_BODY = 64 * 1024
# The latest migration applied (the health route and /api/v2/status report it; novara migrate writes the table).
LATEST_APPLIED_SQL = "SELECT max(name) FROM public.schema_migrations WHERE kind = 'versioned'"
RETRY_AFTER = {"Retry-After": "2"}
DEFAULT_ORIGINS = ("http://localhost:3000", "http://localhost:4200", "http://localhost:5173")
V2_DISABLED = "Schema V2 not available. Enable with USE_SCHEMA_V2=true"
# What a route's reader raises when it cannot answer in a read-only transaction (read_only_sql_transaction).
NEEDS_WRITE = "25006"


class JSON(Response):
    """Compact UTF-8 JSON (no spaces after ':' or ',')."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return jsonx.dumps(content).encode()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def error(status: int, message: str, code: str, headers: dict[str, str] | None = None, **extra: Any) -> JSON:
    return JSON({"success": False, "error": message, "code": code, **extra}, status_code=status, headers=headers)


# ---------------------------------------------------------------------------------------------- SQLSTATE → HTTP


def http_status(sqlstate: str) -> int:
    """Our class NV carries the status in its digits; a few standard classes map to 4xx/503; else 500."""
    if sqlstate.startswith("NV") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate == "23505":
        return 409
    if sqlstate.startswith(("22", "23")):
        return 400
    if sqlstate == "57014" or sqlstate.startswith("40"):
        return 503
    return 500


def error_from_db(err: CallError) -> JSON:
    status = http_status(err.sqlstate)
    if status >= 500:
        log.error("database error %s: %s", err.sqlstate, err.message)
        if status == 503:
            return error(503, "Service temporarily unavailable, please retry", "UNAVAILABLE", RETRY_AFTER)
        return error(500, "Internal server error", "INTERNAL_ERROR")
    if err.sqlstate.startswith("NV"):
        extra = {k: v for k, v in err.detail.items() if k not in {"success", "error"}}
        code = str(extra.pop("code", "ERROR"))
        # A function that says when to come back (429: retry_after seconds) gets the standard header too.
        retry = extra.get("retry_after")
        headers = {"Retry-After": str(retry)} if isinstance(retry, int) and not isinstance(retry, bool) else None
        return error(status, err.message, code, headers, **extra)
    return error(status, "Invalid input", "INVALID_INPUT", details=err.message)


# --------------------------------------------------------------------------------------------- request parsing


class BadRequest(Exception):
    def __init__(self, response: JSON):
        self.response = response


async def read_json_body(request: Request) -> tuple[dict[str, Any], str]:
    """The body as a JSON object, checked here (an object; no NUL, lone surrogate or deep nesting), and its text as
    sent, which is what the function receives: the gateway does not write it again."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise BadRequest(error(413, "Request body too large (max 64 KiB)", "PAYLOAD_TOO_LARGE"))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(error(413, "Request body too large (max 64 KiB)", "PAYLOAD_TOO_LARGE"))
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}, "{}"
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise BadRequest(error(415, "Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE"))
    try:
        text = raw.decode("utf-8")
        body = jsonx.loads(text)
        jsonx.check_depth(body)
    except jsonx.Refused as err:  # too deep, or a string PostgreSQL cannot store: say why
        raise BadRequest(error(400, f"Invalid JSON body: {err}", "INVALID_JSON")) from None
    except (ValueError, RecursionError):
        raise BadRequest(error(400, "Invalid JSON body", "INVALID_JSON")) from None
    if not isinstance(body, dict):
        raise BadRequest(error(400, "Invalid JSON body", "INVALID_JSON"))
    return body, text


def read_query(request: Request) -> dict[str, Any]:
    """GET arguments: the query parameters (the last value of a repeated name); NUL or a lone surrogate, which
    PostgreSQL cannot take in text, is refused here with a message saying so, as in a JSON body."""
    args: dict[str, Any] = dict(request.query_params)
    try:
        jsonx.check_storable(args)
    except jsonx.Refused as err:
        raise BadRequest(error(400, f"Invalid query parameter: {err}", "INVALID_INPUT")) from None
    return args


def _claims(route: Route, request: Request) -> dict[str, Any] | None:
    header = request.headers.get("authorization")
    if route.auth == "none" or (route.auth == "optional" and not header):
        return None
    return request.app.state.verifier.verify(header)


# ----------------------------------------------------------------------------------------------- passwords


def client_address(request: Request, settings: Settings) -> str | None:
    """The address login rate limits count: the TCP peer, or X-Forwarded-For's last entry when trusted."""
    if settings.auth_trust_x_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:100]
    return request.client.host if request.client else None


async def password_args(
    secret: Secret, request: Request, args: dict[str, Any], claims: dict[str, Any] | None
) -> JSON | None:
    """Replace a route's password fields by what the database stores or compares (a hash, a derived key); the
    password goes no further. Every key set here is always set, so a client cannot send its own. Returns an
    error response (400 before any hashing), or None. Raises the begin call's CallError/Unavailable."""
    settings: Settings = request.app.state.settings
    try:
        new = passwords.new(args.pop(secret.new, None), secret.new) if secret.new else None
        typed = passwords.typed(args.pop(secret.typed, None), secret.typed) if secret.typed else None
    except passwords.PasswordError as err:
        return error(400, err.message, "VALIDATION_ERROR", field=err.field)
    args["require_password"] = settings.auth_require_password
    kdf: Any = None
    if secret.typed:
        begin_args = jsonx.dumps({"email": args.get("email"), "client": client_address(request, settings)})
        text = (await request.app.state.db.call(LOGIN_BEGIN, begin_args, "{}", claims, False)).text
        begun = jsonx.loads(text) if text else None
        args["attempt_id"] = begun.get("attempt_id") if isinstance(begun, dict) else None
        kdf = begun.get("kdf") if isinstance(begun, dict) else None
        args[f"{secret.typed}_given"] = typed is not None

    def transform() -> dict[str, str | None]:  # scrypt: ~50 ms of CPU and 16 MiB each, off the event loop
        out: dict[str, str | None] = {}
        log2n = settings.auth_scrypt_log2n
        if secret.new:
            out[f"{secret.new}_hash"] = None if new is None else passwords.hash_password(new, log2n)
        if secret.typed:
            out[f"{secret.typed}_key"] = None if typed is None or not kdf else passwords.derive_key(typed, kdf)
        return out

    busy = new is not None or (typed is not None and bool(kdf))
    args.update(await asyncio.to_thread(transform) if busy else transform())
    return None


# ---------------------------------------------------------------------------------------------- the handler


def endpoint(route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        function = function_for(route, settings.use_schema_v2)
        if function is None:
            if route.v2_only:
                return error(503, V2_DISABLED, "SCHEMA_V2_DISABLED", RETRY_AFTER)
            return error(503, "This route is not available while USE_SCHEMA_V2=false", "V1_UNAVAILABLE")
        try:
            claims = _claims(route, request)
            # GET routes take query parameters; the others take a JSON body, passed on as sent.
            if route.method == "GET":
                args, body = {}, jsonx.dumps(read_query(request))
            else:
                args, body = await read_json_body(request)
        except auth.AuthError as err:
            return error(err.status, err.message, err.code)
        except BadRequest as bad:
            return bad.response
        # Merged over the body by the call. A path id holding NUL (which PostgreSQL text cannot) is still just a
        # malformed id: the function's 404.
        extras: dict[str, Any] = {k: str(v).replace("\x00", "\ufffd") for k, v in request.path_params.items()}
        if key := request.headers.get("idempotency-key"):
            extras["idempotency_key"] = key
        if route.flag:
            extras["schema_v2_enabled"] = settings.use_schema_v2
        if route.log and settings.use_schema_v2:
            log.info("🚀 Using Schema V2 for %s", route.log)
        try:
            if route.password:
                if refused := await password_args(route.password, request, args, claims):
                    return refused
                body = jsonx.dumps(args)  # the password fields replaced by what the database keeps
            catalog = await request.app.state.catalog.get()
            extras_text = jsonx.dumps(extras) if extras else "{}"
            state = request.app.state
            reader = function if catalog.read_only(function) else route.reader
            if reader is not None and catalog.read_only(reader):
                # A standby when DATABASE_READ_URL is set, never older than the client's last write; a malformed
                # position is no position we can wait for: the primary answers.
                after = request.headers.get(LSN_HEADER)
                standby = state.read_db if after is None or LSN.match(after) else None
                try:
                    answer, source = await read_call(state.db, standby, reader, body, extras_text, claims, after)
                except CallError as err:
                    if reader == function or err.sqlstate != NEEDS_WRITE:
                        raise
                    # The reader cannot answer read-only now: the route's own function writes first, on the primary.
                    answer, source = await state.db.call(function, body, extras_text, claims, False), "primary-writer"
                state.metrics.read_source(source)
            else:
                answer = await state.db.call(function, body, extras_text, claims, False)
        except Unavailable as err:
            log.warning("database unavailable: %s", err)
            return error(503, "Database unavailable, please retry", "DATABASE_UNAVAILABLE", RETRY_AFTER)
        except CallError as err:
            if route.log == CREATION:
                log.info("❌ Check-in creation error: %s %s", err.sqlstate, err.message)
            return error_from_db(err)
        text, status = answer.text, answer.status or route.status
        if text is None or not text.startswith("{"):
            log.error("%s returned no JSON object", function)
            return error(500, "Internal server error", "INTERNAL_ERROR")
        headers = {LSN_HEADER: answer.lsn} if answer.lsn else None
        if route.token and isinstance(user := (result := jsonx.loads(text)).get("user"), dict):
            # sign-up and login: the answer carries a token for the user it names
            token = auth.sign(request.app.state.jwt_secret, {k: user.get(k) for k in ("id", "email", "nickname")})
            return JSON({"success": result.get("success", True), "token": token, **result}, status, headers)
        # The function's JSON text as PostgreSQL wrote it, untouched.
        return Response(text.encode(), status, headers, media_type="application/json")

    handle.__name__ = route.function.replace(".", "_")
    return handle


# ----------------------------------------------------------------------------------------- operational routes


async def root(request: Request) -> JSON:
    return JSON(
        {
            "message": "Novara API is running",
            "version": __version__,
            "endpoints": {
                "health": "/api/health",
                "health_detailed": "/api/health/detailed",
                "status": "/api/v2/status",
                "openapi": "/openapi.json",
                "docs": "/docs",
                "metrics": "/metrics",
                "routes": [f"{r.method} {r.path}" for r in ROUTES],
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
    try:
        await request.app.state.db.fetch_one("SELECT 1")
    except Unavailable:
        return JSON(_health_body(settings, "unavailable"), status_code=503, headers=RETRY_AFTER)
    return JSON(_health_body(settings, "ok"))


async def health_detailed(request: Request) -> JSON:
    settings: Settings = request.app.state.settings
    try:
        row = await request.app.state.db.fetch_one(LATEST_APPLIED_SQL)
    except Unavailable:
        return JSON(_health_body(settings, "unavailable"), status_code=503, headers=RETRY_AFTER)
    body = _health_body(settings, "ok")
    body["checks"] = {
        "database": "postgresql",
        "schemaV2": "enabled" if settings.use_schema_v2 else "disabled",
        "migrations": row[0] if row else None,
        "jwt": "configured",
    }
    return JSON(body)


async def _openapi(request: Request) -> dict[str, Any] | None:
    if request.app.state.openapi is None:
        try:
            catalog = await request.app.state.catalog.get()
        except Unavailable:
            return None
        request.app.state.openapi = openapi.build(catalog, ROUTES)
    doc: dict[str, Any] = request.app.state.openapi
    return doc


async def openapi_json(request: Request) -> JSON:
    doc = await _openapi(request)
    if doc is None:
        return error(503, "Database unavailable, please retry", "DATABASE_UNAVAILABLE", RETRY_AFTER)
    return JSON(doc)


async def openapi_30_json(request: Request) -> JSON:
    """The document in OpenAPI 3.0 spellings, for the /docs page (gateway/docs_ui.py says why)."""
    doc = await _openapi(request)
    if doc is None:
        return error(503, "Database unavailable, please retry", "DATABASE_UNAVAILABLE", RETRY_AFTER)
    return JSON(docs_ui.as_openapi_30(doc))


# Every one is described in /openapi.json (gateway/openapi.py OPERATIONAL), but the /docs page's own files.
OPERATIONAL: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
    ("GET", "/", root),
    ("GET", "/api/health", health),
    ("GET", "/api/health/detailed", health_detailed),
    ("GET", "/metrics", metrics.endpoint),
    ("GET", "/docs", docs_ui.page),
    ("GET", "/openapi.json", openapi_json),
]
DOCS_FILES: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
    ("GET", "/docs/openapi-3.0.json", openapi_30_json),
    ("GET", "/docs/assets/{name}", docs_ui.asset),
]


# ------------------------------------------------------------------------------------------- errors, logging


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return JSON({"success": False, "error": "Endpoint not found", "path": request.url.path}, 404)
    if exc.status_code == 405:
        return error(405, "Method not allowed", "METHOD_NOT_ALLOWED", dict(exc.headers or {}))
    return error(exc.status_code, str(exc.detail), "HTTP_ERROR")


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, "Internal server error", "INTERNAL_ERROR")


def create_app(settings: Settings, database_url: str, jwt_secret: str) -> Starlette:
    read_url = settings.database_read_url
    # X-Novara-LSN costs a round trip per write: only where reads may come from a standby
    db = Database(database_url, settings.db_pool_max, report_lsn=read_url is not None)
    read_db = Database(read_url, settings.db_pool_max) if read_url else None
    observed = metrics.Metrics(settings.use_schema_v2)
    verifier = auth.Verifier(jwt_secret)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        if read_db is not None:
            await read_db.open()
        observed.start(db, verifier)
        with contextlib.suppress(Unavailable):  # else read at the first request that needs it
            await app.state.catalog.get()
        try:
            yield
        finally:
            await observed.stop()
            if read_db is not None:
                await read_db.close()
            await db.close()

    own = OPERATIONAL + DOCS_FILES
    routes = [StarletteRoute(path, handler, methods=[method]) for method, path, handler in own]
    routes += [StarletteRoute(r.path, endpoint(r), methods=[r.method]) for r in ROUTES]
    origins = [*DEFAULT_ORIGINS, *([settings.frontend_url] if settings.frontend_url else []), *settings.allowed_origins]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(Observe, metrics=observed),
            Middleware(
                StrictCORS,
                allow_origins=origins,
                allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", LSN_HEADER],
                expose_headers=["X-Request-Id", LSN_HEADER],
            ),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.read_db = read_db
    app.state.jwt_secret = jwt_secret
    app.state.verifier = verifier
    app.state.metrics = observed
    app.state.catalog = CatalogCache(db)
    app.state.openapi = None  # built from the catalog at the first request for it
    return app
