"""The connection pool and the one way the gateway talks to PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5000


class Unavailable(Exception):
    """The database cannot be reached now (the gateway answers 503 with Retry-After)."""


class Database:
    def __init__(self, url: str, max_size: int = 20):
        self.url = url
        self.pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=False,
            timeout=CONNECT_TIMEOUT_S,
            check=AsyncConnectionPool.check_connection,
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

    async def fetch_one(self, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """Run one read-only statement; Unavailable when the server cannot be reached."""
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(query, params)  # type: ignore[arg-type]
                return await cur.fetchone()
        except (PoolTimeout, psycopg.OperationalError) as err:
            raise Unavailable(str(err)) from err
