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

Replication (docs/operations.md, "Replication and failover"): DATABASE_URL may list every node with
target_session_attrs=read-write, so a new connection lands on whichever node is the primary now. After a failover the
old primary's connections fail (503, and the pool drops them); a connection that finds its server read-only (25006:
a demoted primary) is closed too, and answers 503. Where reads may come from standbys (report_lsn), a write's answer
carries the primary's WAL position after its commit (`Answer.lsn`, pg_current_wal_lsn()); a read sent with it to a
standby runs only once the standby has replayed that far (the guard in the call's innermost subquery, `read_after`):
read_call waits briefly, then reads the primary.

Outages (docs/reliability.md, "Durability under faults"): a request waits at most POOL_WAIT_S for a
connection while the database is reachable (a burst), but only UNREACHABLE_WAIT_S once a connection attempt
has failed, so every request gets its 503 at once while the server is down, not after seconds. A connection
idle for more than PING_IF_IDLE_S is pinged before use, and a dead one (the server restarted) is dropped at
once for the next, without the pool's back-off: the first request after the server is back opens a new
connection and is served. Under load a connection comes back within milliseconds and is not pinged: the
ping is a round trip, a tenth of a cheap request's cost (measured with make bench).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
LSN = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
# Read-your-writes with standbys (docs/operations.md, "Reads from standbys"): a call that could write answers with the
# primary's WAL position after its commit in this header; a client sends the latest it got back on its reads, and a
# standby serves them only once it has replayed that far.
LSN_HEADER = "X-Novara-LSN"
# A read whose standby is behind the caller's last write waits up to READ_WAIT_S (in steps doubling from
# READ_STEP_S) for it to catch up, then reads the primary: a synchronous standby is usually a few ms behind at most.
READ_WAIT_S = 0.1
READ_STEP_S = 0.005
# Written by a call that could write, after its commit: the standby that has replayed this far holds the write.
COMMIT_LSN_SQL = "SELECT pg_catalog.pg_current_wal_lsn()::text"
# Class 40 on a standby: the replay of the primary's changes cancelled the read (a recovery conflict).
RECOVERY_CONFLICT = "40"
# 25006: a write reached a server that is read-only now (a demoted primary): the connection is wrong, not the call.
READ_ONLY_SERVER = "25006"


class Unavailable(Exception):
    """The database cannot be reached or is overloaded now (503 with Retry-After)."""


class Behind(Exception):
    """A standby has not replayed the WAL position the read must see yet."""


@dataclass(frozen=True)
class Answer:
    """The function's JSON text as PostgreSQL wrote it, the status it set (core.respond_with), and for a call that
    could write, the primary's WAL position after its commit (what a read must see to include this write)."""

    text: str | None
    status: int | None
    lsn: str | None = None


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
    def __init__(self, url: str, max_size: int = 20, report_lsn: bool = True):
        self.url = url
        # Answer a call that could write with the WAL position after its commit (Answer.lsn): one more round trip,
        # worth it only where some gateway reads from standbys (DATABASE_READ_URL set).
        self.report_lsn = report_lsn
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
        self,
        function: str,
        body: str,
        extras: str,
        claims: dict[str, Any] | None,
        read_only: bool,
        read_after: str | None = None,
    ) -> Answer:
        """Call one api.* function as the gateway role with the request's claims. Its argument is the JSON object
        `body` (the client's, as sent) with the keys of the JSON object `extras` (path parameters, headers) merged
        over it. Returns the function's JSON result as PostgreSQL wrote it, untouched, the status it set
        (core.respond_with), if any, and after a call that could write, the WAL position after its commit.
        read_after (a WAL position): raise Behind, without calling the function, on a standby that has not replayed
        that far."""
        query = call_statement(function, read_only, guarded=read_after is not None)
        claims_text = json.dumps(claims, separators=(",", ":")) if claims else ""
        params: tuple[Any, ...] = (body, extras, claims_text, *([read_after] if read_after is not None else []))
        lsn = None
        try:
            async with self.connection() as conn:
                try:
                    cur = await conn.execute(query, params)
                    row = await cur.fetchone()
                    if row is None and read_after is not None:
                        raise Behind(read_after)
                    if not read_only and self.report_lsn:
                        committed = await (await conn.execute(COMMIT_LSN_SQL)).fetchone()
                        lsn = committed[0] if committed else None
                except psycopg.Error as err:
                    if err.sqlstate == READ_ONLY_SERVER and not read_only:
                        await conn.close()  # the pool discards it: the next connection finds the primary
                    raise
        except psycopg.Error as err:
            classified = _classify(err, read_only)
            if isinstance(classified, Unavailable):
                self.unreachable = True
            raise classified from err
        if row is None:
            return Answer(None, None)
        return Answer(row[0], int(row[1]) if row[1] else None, lsn)


async def read_call(
    primary: Database,
    standby: Database | None,
    function: str,
    body: str,
    extras: str,
    claims: dict[str, Any] | None,
    read_after: str | None,
) -> tuple[Answer, str]:
    """A read-only call on a standby when there is one, never older than `read_after` (the caller's last write, a
    WAL position; None: no write to wait for): on a standby behind it, wait up to READ_WAIT_S, then read the primary.
    An unreachable standby is skipped for the primary at once. Returns the answer and where it was read: standby,
    standby-waited, primary-fallback, primary."""
    if standby is not None:
        started = time.monotonic()
        step = READ_STEP_S
        while True:
            try:
                answer = await standby.call(function, body, extras, claims, True, read_after)
                return answer, "standby" if step == READ_STEP_S else "standby-waited"
            except Behind:
                if time.monotonic() - started + step > READ_WAIT_S:
                    break
                await asyncio.sleep(step)
                step *= 2
            except Unavailable:
                break
            except CallError as err:
                if not err.sqlstate.startswith(RECOVERY_CONFLICT):
                    raise  # the function's own answer (404, 400, ...): the same on the primary
                break  # the standby's replay cancelled the read: the primary has no such conflict
        return await primary.call(function, body, extras, claims, True), "primary-fallback"
    return await primary.call(function, body, extras, claims, True), "primary"


# The call: the claims (and read-only mode) first, in a fenced subquery; then the function; then the status it set.
# One line: pg_stat_statements keeps it as written, and core.monitoring finds the function's name in it.
_CALL = (
    "SELECT r.body::text, current_setting('response.status', true) FROM (SELECT {}.{}(%s::jsonb || %s::jsonb) AS body"
    " FROM (SELECT set_config('request.jwt.claims', %s, true){}{} OFFSET 0) AS s OFFSET 0) AS r"
)
_READ_ONLY = ", set_config('transaction_read_only', 'on', true)"
# On a standby that has not replayed the caller's last write yet, the innermost subquery has no row: the function
# is not called and the statement answers no row (Behind). A primary (not in recovery) always passes.
_GUARD = " WHERE NOT pg_catalog.pg_is_in_recovery() OR pg_catalog.pg_last_wal_replay_lsn() >= %s::pg_lsn"


def call_statement(function: str, read_only: bool, guarded: bool = False) -> sql.Composed:
    """The one statement of a call: `function` (schema.name) with parameters (body jsonb text, extras jsonb text,
    claims text[, the WAL position a standby must have replayed when guarded]), answering (result text, status).
    The novara selftest makes its calls with it too, so a psql-side check exercises exactly what the gateway runs."""
    if not _FUNCTION.match(function):
        raise ValueError(f"not a function name: {function!r}")
    schema, name = function.split(".")
    return sql.SQL(_CALL).format(
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(_READ_ONLY if read_only else ""),
        sql.SQL(_GUARD if guarded else ""),
    )


def _classify(err: psycopg.Error, read_only: bool = False) -> Exception:
    """Connection-level failures are Unavailable (503), and so is a write refused by a read-only server (the primary
    was demoted under the connection); everything else is the function's own error."""
    if err.sqlstate is None or (
        isinstance(err, psycopg.OperationalError) and err.sqlstate.startswith(_UNAVAILABLE_CLASSES)
    ):
        return Unavailable(str(err).strip())
    if err.sqlstate == READ_ONLY_SERVER and not read_only:
        return Unavailable(str(err).strip())
    return CallError(err.sqlstate, err.diag.message_primary or str(err), _detail(err))
