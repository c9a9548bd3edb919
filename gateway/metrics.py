"""GET /metrics: the Prometheus text format, written by prometheus-client.

What is measured, and why no label can identify a person: requests are labelled by method, the route's
*template* (`/api/checkins/{id}`: the one row of gateway/routes.py that served it; `(unmatched)` for a 404 on an
unknown path, never the raw path) and status. Nothing else a client sends becomes a label.

  novara_http_requests_total{method,route,status}             requests served (counter)
  novara_http_request_duration_seconds{method,route,status}   latency, handler to last byte (histogram)
  novara_db_pool_connections{state="open"|"in_use"}           the connection pool (psycopg_pool get_stats)
  novara_db_pool_max_connections, novara_db_pool_waiting      DB_POOL_MAX per worker; requests queued for one
  novara_db_pool_timeouts_total                               requests that got no connection in time (503)
  novara_database_up                                          1 when `SELECT … schema_migrations` answered now
  novara_token_cache_hits_total, …_misses_total               tokens recognised without the HMAC (gateway/auth.py)
  novara_gateway_workers                                      worker processes reporting
  novara_build_info{version,schema_version,use_schema_v2}     1
  novara_replication_slot_active{slot}, …_retained_bytes{slot} physical slots: Barman's stream, standbys
  novara_wal_archiver_archived, …_failed, …_failing, …_last_archived_age_seconds   pg_stat_archiver

Several workers (`novara serve --workers N`): each is its own process, so each keeps its own numbers; the
server sets PROMETHEUS_MULTIPROC_DIR before starting them (prometheus-client's multiprocess mode: each process
writes its values to memory-mapped files there) and any worker answering /metrics reads them all, so counters
and histograms are the sums over the workers. Pool gauges are summed over live workers; each worker refreshes
its own every REFRESH_S seconds and the answering one at the scrape, so another worker's pool may be up to
REFRESH_S old. `novara_database_up`, `novara_build_info` and the WAL gauges are taken by the answering worker at the
scrape.

METRICS_TOKEN set: the scrape must send `Authorization: Bearer <token>` (401 without, 403 with another).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
from collections.abc import Iterator
from typing import Any

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import __version__
from .auth import Verifier
from .db import Database, Unavailable

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REFRESH_S = 5.0
UNMATCHED = "(unmatched)"
# Seconds: from a cheap cached call (~1 ms) to the statement timeout (5 s).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# What the scrape asks the database: that it answers, and the schema version it is at.
SCHEMA_VERSION_SQL = "SELECT max(name) FROM public.schema_migrations WHERE kind = 'versioned'"
# And what tells that backups fall behind: the WAL archive's state as core.wal_archive() reads it.
WAL_ARCHIVE_SQL = "SELECT core.wal_archive()"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _ScrapeTime(Collector):
    """Facts taken when /metrics is asked: is the database answering, and which build serves."""

    def __init__(self, use_schema_v2: bool):
        self.use_schema_v2 = use_schema_v2
        self.database_up = 0.0
        self.schema_version = ""
        self.wal_archive: dict[str, Any] | None = None  # core.wal_archive()'s document, None when not read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("novara_database_up", "1 when the database answered the scrape's query, else 0")
        up.add_metric([], self.database_up)
        yield up
        info = GaugeMetricFamily(
            "novara_build_info",
            "The gateway's version, the latest applied migration and the USE_SCHEMA_V2 flag (always 1)",
            labels=["version", "schema_version", "use_schema_v2"],
        )
        info.add_metric([__version__, self.schema_version, str(self.use_schema_v2).lower()], 1.0)
        yield info
        if self.wal_archive is not None:
            yield from _wal_archive_families(self.wal_archive)


def _wal_archive_families(doc: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    active = GaugeMetricFamily(
        "novara_replication_slot_active",
        "1 while the slot's consumer (Barman's WAL stream, a standby) is connected; 0: WAL piles up for it",
        labels=["slot"],
    )
    retained = GaugeMetricFamily(
        "novara_replication_slot_retained_bytes",
        "WAL the server keeps for the slot's consumer: how far the backup stream or a standby is behind",
        labels=["slot"],
    )
    for slot in doc["slots"]:
        active.add_metric([slot["slot"]], 1.0 if slot["active"] else 0.0)
        retained.add_metric([slot["slot"]], float(slot["retained_bytes"] or 0))
    yield active
    yield retained
    archiver = doc["archiver"]
    yield GaugeMetricFamily(
        "novara_wal_archiver_archived",
        "WAL segments archive_command has archived since the statistics reset",
        value=float(archiver["archived"]),
    )
    yield GaugeMetricFamily(
        "novara_wal_archiver_failed",
        "archive_command's failures since the statistics reset",
        value=float(archiver["failed"]),
    )
    yield GaugeMetricFamily(
        "novara_wal_archiver_failing",
        "1 when archive_command's last attempt failed",
        value=1.0 if archiver["failing"] else 0.0,
    )
    if archiver["last_archived_age_seconds"] is not None:
        yield GaugeMetricFamily(
            "novara_wal_archiver_last_archived_age_seconds",
            "Seconds since archive_command last archived a segment (absent when it never has)",
            value=float(archiver["last_archived_age_seconds"]),
        )


class Metrics:
    """One per app: its own registry (tests build many apps in one process); in multiprocess mode the values live
    in the shared directory whatever the registry."""

    def __init__(self, use_schema_v2: bool):
        self.registry = CollectorRegistry()
        self.multiprocess = multiprocess_dir() is not None
        r = self.registry
        self.requests = Counter(
            "novara_http_requests",
            "HTTP requests served, by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "novara_http_request_duration_seconds",
            "Time from the request reaching the gateway to the last byte of its response",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=r,
        )
        self.pool = Gauge(
            "novara_db_pool_connections",
            "Connections of the gateway's pool: open, and in use by a request",
            ["state"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_max = Gauge(
            "novara_db_pool_max_connections",
            "DB_POOL_MAX, summed over workers",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_waiting = Gauge(
            "novara_db_pool_waiting", "Requests waiting for a connection", registry=r, multiprocess_mode="livesum"
        )
        self.pool_timeouts = Counter(
            "novara_db_pool_timeouts", "Requests that got no database connection in time (answered 503)", registry=r
        )
        self.token_hits = Counter(
            "novara_token_cache_hits", "Bearer tokens recognised from the verified-token cache", registry=r
        )
        self.token_misses = Counter(
            "novara_token_cache_misses", "Bearer tokens verified in full (HMAC, decoding)", registry=r
        )
        self.reads = Counter(
            "novara_read_calls",
            "Read-only calls by where they were served: standby, standby-waited (it caught up with the client's "
            "last write), primary-fallback (it did not in time, or is unreachable), primary (no DATABASE_READ_URL), "
            "primary-writer (the route's reader could not answer read-only: its read-write function answered)",
            ["source"],
            registry=r,
        )
        self.workers = Gauge(
            "novara_gateway_workers", "Gateway worker processes reporting", registry=r, multiprocess_mode="livesum"
        )
        self.workers.set(1)
        self.scrape_time = _ScrapeTime(use_schema_v2)
        if not self.multiprocess:
            r.register(self.scrape_time)
        self._seen = {"timeouts": 0, "hits": 0, "misses": 0}
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------------- per request

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def read_source(self, source: str) -> None:
        self.reads.labels(source).inc()

    # ------------------------------------------------------------------------- state kept elsewhere, copied in

    def refresh(self, db: Database, verifier: Verifier) -> None:
        stats = db.pool.get_stats()
        size = stats.get("pool_size", 0)
        self.pool.labels("open").set(size)
        self.pool.labels("in_use").set(size - stats.get("pool_available", 0))
        self.pool_max.set(stats.get("pool_max", db.pool.max_size))
        self.pool_waiting.set(stats.get("requests_waiting", 0))
        self._advance(self.pool_timeouts, "timeouts", db.timeouts)
        self._advance(self.token_hits, "hits", verifier.hits)
        self._advance(self.token_misses, "misses", verifier.misses)

    def _advance(self, counter: Counter, key: str, total: int) -> None:
        if total > self._seen[key]:
            counter.inc(total - self._seen[key])
            self._seen[key] = total

    async def _refresh_forever(self, db: Database, verifier: Verifier) -> None:
        while True:  # at once (a scrape answered by another worker sees this one from its start), then regularly
            self.refresh(db, verifier)
            await asyncio.sleep(REFRESH_S)

    def start(self, db: Database, verifier: Verifier) -> None:
        """Keep this worker's pool gauges current for the scrapes other workers answer."""
        if self.multiprocess:
            self._task = asyncio.get_running_loop().create_task(self._refresh_forever(db, verifier))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.multiprocess:  # this worker's live gauges leave the sums
            mark_process_dead(os.getpid())

    # ------------------------------------------------------------------------------------------------ scrape

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(self.scrape_time)
        return generate_latest(registry)


def _refused(status: int, message: str, code: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"success": False, "error": message, "code": code}, status_code=status, headers=headers)


def authorized(request: Request, token: str | None) -> Response | None:
    """None when the scrape may proceed; else the 401/403 answer."""
    if token is None:
        return None
    scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _refused(401, "Metrics token required", "METRICS_TOKEN_REQUIRED")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refused(403, "Invalid metrics token", "INVALID_METRICS_TOKEN")
    return None


async def endpoint(request: Request) -> Response:
    state: Any = request.app.state
    refused = authorized(request, state.settings.metrics_token)
    if refused is not None:
        return refused
    metrics: Metrics = state.metrics
    try:
        row = await state.db.fetch_one(SCHEMA_VERSION_SQL)
        metrics.scrape_time.database_up = 1.0
        metrics.scrape_time.schema_version = str(row[0]) if row and row[0] else ""
    except Unavailable:
        metrics.scrape_time.database_up = 0.0
    metrics.scrape_time.wal_archive = None  # the gauges are left out rather than the scrape failing or waiting
    if metrics.scrape_time.database_up:
        with contextlib.suppress(Unavailable, psycopg.Error):
            row = await state.db.fetch_one(WAL_ARCHIVE_SQL)
            metrics.scrape_time.wal_archive = row[0] if row else None
    metrics.refresh(state.db, state.verifier)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
