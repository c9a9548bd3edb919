"""What the gateway learns from the database instead of repeating it: read once (at start-up, or at the first request
after a start with the database down) in one query, as the gateway role.

- each api.* function's COMMENT (the operation's description) and volatility: a STABLE or IMMUTABLE function runs
  in a read-only transaction, so a GET that is declared not to write cannot write, whatever its body tries;
- the registries the SQL validates by (check-in fields, profile fields, event types and their rules), from which
  the OpenAPI document builds its request schemas.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .db import Database

CATALOG_SQL = """
SELECT jsonb_build_object(
    'functions', (
        SELECT jsonb_object_agg('api.' || p.proname, jsonb_build_object(
            'comment', d.description, 'read_only', p.provolatile IN ('s', 'i')))
        FROM pg_catalog.pg_proc AS p
        LEFT JOIN pg_catalog.pg_description AS d
            ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass AND d.objsubid = 0
        WHERE p.pronamespace = 'api'::regnamespace),
    'checkin_fields', (
        SELECT jsonb_agg(to_jsonb(f) ORDER BY f.field) FROM public.checkin_fields AS f WHERE NOT f.set_by_route),
    'profile_fields', (SELECT jsonb_agg(to_jsonb(f) ORDER BY f.position) FROM public.profile_fields AS f),
    'event_types', (
        SELECT jsonb_agg(jsonb_build_object('event_type', e.event_type, 'rules', e.rules) ORDER BY e.event_type)
        FROM public.event_types AS e)
)
"""


@dataclass(frozen=True)
class Catalog:
    functions: dict[str, dict[str, Any]]  # "api.x" -> {comment, read_only}
    checkin_fields: list[dict[str, Any]]  # rows of public.checkin_fields
    profile_fields: list[dict[str, Any]]  # rows of public.profile_fields, in validation order
    event_types: list[dict[str, Any]]  # {event_type, rules}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        """From the one JSON value CATALOG_SQL returns."""
        return cls(
            functions=data.get("functions") or {},
            checkin_fields=data.get("checkin_fields") or [],
            profile_fields=data.get("profile_fields") or [],
            event_types=data.get("event_types") or [],
        )

    def read_only(self, function: str) -> bool:
        return bool(self.functions.get(function, {}).get("read_only"))

    def comment(self, function: str) -> str:
        return self.functions.get(function, {}).get("comment") or ""


class CatalogCache:
    """The catalog, loaded once; until it can be read (the database is down), `get` raises Unavailable."""

    def __init__(self, db: Database):
        self._db = db
        self._catalog: Catalog | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Catalog:
        if self._catalog is None:
            async with self._lock:
                if self._catalog is None:
                    row = await self._db.fetch_one(CATALOG_SQL)
                    self._catalog = Catalog.from_json(row[0] if row else {})
        return self._catalog
