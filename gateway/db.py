"""The connection pool and the one way the gateway talks to PostgreSQL: one api.* call per request.

Every pooled connection runs as the gateway role (SET ROLE novara_api once, when it is opened). A call is
one autocommit statement — one round trip, one transaction:
    SELECT r.body::text, current_setting('response.status', true)
    FROM (SELECT api.<function>($1::jsonb || $2::jsonb) AS body     -- the body as sent, path/header values over it
          FROM (SELECT set_config('request.jwt.claims', $3, true)
                     [, set_config('transaction_read_only', 'on', true)]  -- STABLE functions (gateway/catalog.py)
                OFFSET 0) AS s
          OFFSET 0) AS r
The innermost subquery (kept apart by OFFSET 0) runs first, so the function sees the request's claims, exactly as
a psql user who ran set_config first; a read-only call cannot write, whatever the function tries. The result is
PostgreSQL's own JSON text, passed to the client untouched, and the status the function set (core.respond_with).

Outages (docs/reliability.md, "Durability under faults"): a request waits at most POOL_WAIT_S for a
connection while the database is reachable (a burst), but only UNREACHABLE_WAIT_S once a connection attempt
has failed, so every request gets its 503 at once while the server is down, not after seconds. A connection
idle for more than PING_IF_IDLE_S is pinged before use, and a dead one (the server restarted) is dropped at
once for the next, without the pool's back-off: the first request after the server is back opens a new
connection and is served. Under load a connection comes back within milliseconds and is not pinged: the
ping is a round trip, a tenth of a cheap request's cost (measured with make bench).
"""

from __future__ import annotations

import json
import re
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from . import jsonx

CONNECT_TIMEOUT_S = 3
POOL_WAIT_S = 3
UNREACHABLE_WAIT_S = 0.25
PING_IF_IDLE_S = 1.0
STATEMENT_TIMEOUT_MS = 5000
GATEWAY_ROLE = "novara_api"
AUTHENTICATOR = "novara_authenticator"  # the login the gateway is meant to use (docs/roles.md)
_FUNCTION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class Unavailable(Exception):
    """The database cannot be reached or is overloaded now (503 with Retry-After)."""


class CallError(Exception):
    """The function raised: SQLSTATE, message, and the JSON detail of the error (if any)."""

    def __init__(self, sqlstate: str, message: str, detail: dict[str, Any]):
        super().__init__(f"{sqlstate} {message}")
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail


def _detail(err: psycopg.Error) -> dict[str, Any]:
    raw = err.diag.message_detail
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# Connection-level failures: the server is down, restarting, or refusing connections.
_UNAVAILABLE_CLASSES = ("08", "57P", "53")


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(jsonx.loads, conn)  # results keep exact numbers (Decimal), as sent
    await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(GATEWAY_ROLE)))


class Database:
    def __init__(self, url: str, max_size: int = 20):
        self.url = url
        # True from a failed connection attempt (or a connection lost mid-call) until a connection works again.
        self.unreachable = False
        # Requests that got no connection within their wait (each answered 503): /metrics reports it.
        self.timeouts = 0
        # When each connection was last handed back (monotonic seconds): a connection idle longer is pinged.
        self._returned: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = weakref.WeakKeyDictionary()
        self.pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=False,
            timeout=POOL_WAIT_S,
            configure=self._configure,
            reconnect_timeout=0,
            reconnect_failed=self._reconnect_failed,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_S,
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                "application_name": "novara-gateway",
            },
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await _configure(conn)
        self.unreachable = False

    def _reconnect_failed(self, _pool: AsyncConnectionPool[Any]) -> None:
        self.unreachable = True

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection, just used or answering a ping; Unavailable when none comes within the wait."""
        started = time.monotonic()
        while True:
            # Waits in slices: a request queued before an attempt failed gives up then, not POOL_WAIT_S later.
            remaining = started + (UNREACHABLE_WAIT_S if self.unreachable else POOL_WAIT_S) - time.monotonic()
            if remaining <= 0:
                self.timeouts += 1
                raise Unavailable("no database connection available")
            try:
                conn = await self.pool.getconn(timeout=min(remaining, UNREACHABLE_WAIT_S))
            except PoolTimeout:
                continue
            if time.monotonic() - self._returned.get(conn, float("-inf")) <= PING_IF_IDLE_S:
                break  # just used: alive (a connection that breaks now fails its call with a 503)
            try:
                await conn.execute("")  # the ping of AsyncConnectionPool.check_connection (autocommit)
            except psycopg.Error:
                await self.pool.putconn(conn)  # broken: the pool discards it and opens another
                continue
            except BaseException:
                await self.pool.putconn(conn)  # cancelled (the client went away): never leak a connection
                raise
            self.unreachable = False
            break
        try:
            yield conn
        finally:
            self._returned[conn] = time.monotonic()
            await self.pool.putconn(conn)

    async def fetch_one(self, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """Run one statement outside the API (health checks); Unavailable when unreachable."""
        try:
            async with self.connection() as conn:
                cur = await conn.execute(query, params)  # type: ignore[arg-type]
                return await cur.fetchone()
        except psycopg.OperationalError as err:
            self.unreachable = True
            raise Unavailable(str(err)) from err

    async def call(
        self, function: str, body: str, extras: str, claims: dict[str, Any] | None, read_only: bool
    ) -> tuple[str | None, int | None]:
        """Call one api.* function as the gateway role with the request's claims. Its argument is the JSON object
        `body` (the client's, as sent) with the keys of the JSON object `extras` (path parameters, headers) merged
        over it. Returns the function's JSON result as PostgreSQL wrote it, untouched, and the status it set
        (core.respond_with), if any."""
        query = call_statement(function, read_only)
        claims_text = json.dumps(claims, separators=(",", ":")) if claims else ""
        try:
            async with self.connection() as conn:
                cur = await conn.execute(query, (body, extras, claims_text))
                row = await cur.fetchone()
        except psycopg.Error as err:
            classified = _classify(err)
            if isinstance(classified, Unavailable):
                self.unreachable = True
            raise classified from err
        if row is None:
            return None, None
        return row[0], int(row[1]) if row[1] else None


# The call: the claims (and read-only mode) first, in a fenced subquery; then the function; then the status it set.
# One line: pg_stat_statements keeps it as written, and core.monitoring finds the function's name in it.
_CALL = (
    "SELECT r.body::text, current_setting('response.status', true) FROM (SELECT {}.{}(%s::jsonb || %s::jsonb) AS body"
    " FROM (SELECT set_config('request.jwt.claims', %s, true){} OFFSET 0) AS s OFFSET 0) AS r"
)
_READ_ONLY = ", set_config('transaction_read_only', 'on', true)"


def call_statement(function: str, read_only: bool) -> sql.Composed:
    """The one statement of a call: `function` (schema.name) with parameters (body jsonb text, extras jsonb text,
    claims text), answering (result text, status). The novara selftest makes its calls with it too, so a psql-side
    check exercises exactly what the gateway runs."""
    if not _FUNCTION.match(function):
        raise ValueError(f"not a function name: {function!r}")
    schema, name = function.split(".")
    return sql.SQL(_CALL).format(sql.Identifier(schema), sql.Identifier(name), sql.SQL(_READ_ONLY if read_only else ""))


def _classify(err: psycopg.Error) -> Exception:
    """Connection-level failures are Unavailable (503); everything else is the function's own error."""
    if err.sqlstate is None or (
        isinstance(err, psycopg.OperationalError) and err.sqlstate.startswith(_UNAVAILABLE_CLASSES)
    ):
        return Unavailable(str(err).strip())
    return CallError(err.sqlstate, err.diag.message_primary or str(err), _detail(err))
