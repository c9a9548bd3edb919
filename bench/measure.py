"""The measurements of one run: each route direct (pgbench, 1 and N clients) and through the gateway (wrk),
per-user growth with history, the metrics views' refresh, the daily insight's first call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from novara.seed import HISTORY_USERS

from . import cpu, pgbench, profile, wrk
from .pgbench import Users
from .routes import ROUTE_CLASSES, RouteClass, by_key
from .stats import Measurement, ratio

PER_CLIENT = 8  # check-in writers owned by each pgbench client
PER_THREAD = 64  # check-in writers owned by each wrk thread
# The half-load run's check-ins: dates clear of the closed-loop run's (from routes.FIRST_DATE on, a few hundred days at
# most) and of gwprofile's (2010 on); the check-in route refuses dates before 2000.
HALF_LOAD_FIRST_DATE = "2005-01-01"
THREADS = 2  # pgbench jobs and wrk threads


@dataclass(frozen=True)
class Plan:
    users: int  # loaded users u0 .. u<users-1>
    duration: int  # seconds per measurement
    clients: int  # pgbench clients and wrk connections for the concurrent measurements
    growth_duration: int
    routes: tuple[RouteClass, ...] = ROUTE_CLASSES

    @property
    def writer_blocks(self) -> dict[str, Users]:
        """Disjoint writer users for the three check-in measurements (a check-in is one per user and date)."""
        d1 = Users("w", 0, PER_CLIENT, per_client=PER_CLIENT)
        dn = Users("w", d1.first + d1.count, self.clients * PER_CLIENT, per_client=PER_CLIENT)
        gw = Users("w", dn.first + dn.count, THREADS * PER_THREAD, per_client=PER_THREAD)
        return {"direct_1": d1, "direct_n": dn, "gateway": gw}

    @property
    def writers(self) -> int:
        blocks = self.writer_blocks.values()
        return max(b.first + b.count for b in blocks)


def parse_routes(spec: str | None) -> tuple[RouteClass, ...]:
    if not spec:
        return ROUTE_CLASSES
    return tuple(by_key(key.strip()) for key in spec.split(",") if key.strip())


@dataclass
class Context:
    url: str
    gateway_url: str
    secret: str
    workdir: Path
    plan: Plan
    log: Callable[[str], None]
    meter: cpu.Meter


def _timed(
    ctx: Context, run: Callable[[], Measurement], *, new_connections: bool = True
) -> tuple[Measurement, dict[str, float | None]]:
    """Run one measurement; also return each side's CPU milliseconds per request. pgbench's connections
    end with the run: wait until their backends are reaped, so that their CPU time is counted."""
    started = cpu.now_ticks()
    before = ctx.meter.sample()
    m = run()
    if new_connections and ctx.meter.postmaster:
        cpu.settle(ctx.meter.postmaster, started)
    after = ctx.meter.sample()
    return m, ctx.meter.per_request_ms(before, after, m.requests)


def _ratios(direct: Measurement, gateway: Measurement) -> dict[str, float | None]:
    return {
        "throughput": ratio(gateway.throughput, direct.throughput),
        "p50": ratio(gateway.p50_ms, direct.p50_ms),
        "p99": ratio(gateway.p99_ms, direct.p99_ms),
    }


def measure_route(ctx: Context, conn: psycopg.Connection, rc: RouteClass) -> dict[str, Any]:
    """direct_1, direct_n (pgbench) and gateway (wrk, same concurrency), their ratios, and the statements."""
    plan = ctx.plan
    loaded = Users("u", 0, plan.users)
    blocks = plan.writer_blocks if rc.writes_checkins else {"direct_1": loaded, "direct_n": loaded, "gateway": loaded}
    work = ctx.workdir / rc.key
    work.mkdir(parents=True, exist_ok=True)
    read_only = rc.read_only(conn)
    track = profile.statements_available(conn)
    if track:
        profile.reset_statements(conn)
    d1, d1_cpu = _timed(
        ctx,
        lambda: pgbench.run(
            ctx.url,
            pgbench.script(rc, blocks["direct_1"], read_only=read_only),
            clients=1,
            duration=plan.duration,
            workdir=work,
            name="d1",
        ),
    )
    statements = profile.top_statements(conn, rc.function) if track else {}
    dn, dn_cpu = _timed(
        ctx,
        lambda: pgbench.run(
            ctx.url,
            pgbench.script(rc, blocks["direct_n"], read_only=read_only),
            clients=plan.clients,
            duration=plan.duration,
            workdir=work,
            name="dn",
            threads=THREADS,
        ),
    )
    tokens = wrk.write_tokens(work / "tokens.txt", ctx.secret, blocks["gateway"])
    gw, gw_cpu = _timed(
        ctx,
        new_connections=False,
        run=lambda: wrk.run(
            ctx.gateway_url,
            rc,
            tokens,
            connections=plan.clients,
            duration=plan.duration,
            workdir=work,
            threads=THREADS,
            per_thread=PER_THREAD,
        ),
    )
    # The latency of a fixed load at half the capacity just measured: the honest form of a latency target on a
    # machine whose cores the closed-loop run saturates (its latency is queueing).
    half = wrk.run(
        ctx.gateway_url,
        rc,
        tokens,
        connections=plan.clients,
        duration=plan.duration,
        workdir=work,
        threads=THREADS,
        per_thread=PER_THREAD,
        rate=gw.throughput / 2,
        first_date=HALF_LOAD_FIRST_DATE,
    )
    result = {
        "label": rc.label,
        "function": rc.function,
        "http": f"{rc.method} {rc.http_target()}",
        "args": json.loads(rc.call_args().replace("@DATE@", "YYYY-MM-DD")),
        "direct_1": d1.as_dict(),
        "direct_n": dn.as_dict(),
        "gateway": gw.as_dict(),
        "gateway_half_load": half.as_dict(),
        "ratios": _ratios(dn, gw),
        "cpu_ms_per_request": {"direct_1": d1_cpu, "direct_n": dn_cpu, "gateway": gw_cpu},
        "statements": statements,
    }
    ctx.log(
        f"{rc.label:<22} direct 1c {d1.throughput:7.0f}/s p50 {d1.p50_ms:6.2f} ms | direct {plan.clients}c "
        f"{dn.throughput:7.0f}/s p99 {dn.p99_ms:6.2f} | gateway {gw.throughput:7.0f}/s p99 {gw.p99_ms:6.2f} "
        f"| gw/direct {result['ratios']['throughput']}"
        + (f" | ERRORS d1={d1.errors} dn={dn.errors} gw={gw.errors}" if d1.errors or dn.errors or gw.errors else "")
    )
    return result


def growth(ctx: Context) -> dict[str, Any]:
    """Timeline and analytics for the 30-day, 90-day and 3-year users (pgbench, 1 client, one fixed user)."""
    out: dict[str, Any] = {}
    # analytics over a quarter: the 30-day user fills a third of the window, the others all of it (3y / 90d
    # is its like-for-like ratio); over a month every user's window is full, so 3y / 30d is history alone.
    month = replace(by_key("analytics"), key="analytics_month", label="analytics (month)", args={"timeframe": "month"})
    growing = (
        ("timeline", by_key("timeline")),
        ("analytics", by_key("analytics")),
        (month.key, month),
        ("user_metrics", by_key("user_metrics")),
    )
    for key, rc in growing:
        per_user: dict[str, Any] = {}
        with psycopg.connect(ctx.url) as conn:
            read_only = rc.read_only(conn)
        for prefix, days in HISTORY_USERS.items():
            m = pgbench.run(
                ctx.url,
                pgbench.script(rc, Users(prefix, 0, 1), read_only=read_only),
                clients=1,
                duration=ctx.plan.growth_duration,
                workdir=ctx.workdir / "growth",
                name=f"{key}_{prefix.rstrip('-')}",
            )
            per_user[prefix.rstrip("-")] = {"history_days": days, **m.as_dict()}
        short, mid, long = (per_user[p.rstrip("-")] for p in HISTORY_USERS)
        out[key] = {
            "users": per_user,
            "ratio_3y_30d_p50": ratio(long["p50_ms"], short["p50_ms"]),
            "ratio_3y_90d_p50": ratio(long["p50_ms"], mid["p50_ms"]),
            "ratio_3y_30d_mean": ratio(long["mean_ms"], short["mean_ms"]),
        }
        ctx.log(
            f"growth {key:<10} p50 30d {short['p50_ms']:.2f} ms, 90d {mid['p50_ms']:.2f} ms, "
            f"3y {long['p50_ms']:.2f} ms "
            f"(3y/30d {out[key]['ratio_3y_30d_p50']})"
        )
    return out


def refresh(conn: psycopg.Connection, log: Callable[[str], None]) -> dict[str, Any]:
    """public.refresh_user_metrics(): a full refresh, then a concurrent one (the views' own timings)."""
    out: dict[str, Any] = {}
    for mode, concurrently in (("full", False), ("concurrent", True)):
        started = time.perf_counter()
        row = conn.execute("SELECT public.refresh_user_metrics(%s)", (concurrently,)).fetchone()
        out[mode] = {"total_ms": round((time.perf_counter() - started) * 1000, 1), "views": row[0] if row else None}
        log(f"refresh_user_metrics({concurrently}): {out[mode]['total_ms']:.0f} ms")
    return out


def warm_daily_insights(conn: psycopg.Connection, users: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Generate today's daily insight of every loaded user (the first call of a day computes and stores it),
    so all three daily-insight measurements read the stored insight; the first call's mean cost is kept."""
    started = time.perf_counter()
    conn.execute("SELECT seed.warm_daily_insights('load')")
    ms = (time.perf_counter() - started) * 1000
    out = {"users": users, "total_ms": round(ms, 1), "mean_ms_per_first_call": round(ms / max(users, 1), 3)}
    log(f"daily insight, first call of the day: {out['mean_ms_per_first_call']:.2f} ms per user")
    return out


# One simulated day of check-ins, on a date clear of the generated history and of every other measurement's.
FRESHNESS_DAY = "2000-01-01"
FRESHNESS_BODY = {"mood_today": "hopeful, calm", "confidence_today": 7, "anxiety_level": 3, "medication_taken": "yes"}
ROLLUP_TRIGGER = "health_events_user_day_rollups"


def _append(conn: psycopg.Connection, users: range, date: str) -> tuple[float, list[str]]:
    """One check-in per user of `users` on `date`, each in its own transaction as the gateway makes it."""
    errors: list[str] = []
    started = time.perf_counter()
    for k in users:
        claims = json.dumps({"email": f"u{k}@bench.invalid"})
        body = json.dumps({**FRESHNESS_BODY, "date_submitted": date})
        try:
            conn.execute(
                "SELECT api.create_checkin(%s::jsonb) FROM (SELECT set_config('request.jwt.claims', %s, true)"
                " OFFSET 0) AS s",
                (body, claims),
            )
        except psycopg.Error as err:
            errors.append(f"{err.sqlstate} {err.diag.message_primary}")
    return (time.perf_counter() - started) * 1000, errors


def freshness(conn: psycopg.Connection, users: int, log: Callable[[str], None]) -> dict[str, Any]:
    """What keeping the metrics fresh costs after one day: every loaded user checks in once (the rollups are kept
    by the writes' own trigger), then the deployment guide's `REFRESH MATERIALIZED VIEW CONCURRENTLY
    user_daily_metrics` runs. The rollups' share of the writes: the even users write with the trigger, the odd ones
    with it disabled (their rollups filled afterwards, before it is enabled again), so both halves start from
    equally cold pages; the per-check-in difference is the trigger's cost."""
    with_ms, with_errors = _append(conn, range(0, users, 2), FRESHNESS_DAY)
    conn.execute(f"ALTER TABLE public.health_events DISABLE TRIGGER {ROLLUP_TRIGGER}")
    try:
        without_ms, without_errors = _append(conn, range(1, users, 2), FRESHNESS_DAY)
        started = time.perf_counter()
        filled = conn.execute("SELECT core.user_day_rollups_backfill()").fetchone()
        backfill_ms = (time.perf_counter() - started) * 1000
    finally:
        conn.execute(f"ALTER TABLE public.health_events ENABLE TRIGGER {ROLLUP_TRIGGER}")
    started = time.perf_counter()
    conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY user_daily_metrics")
    refresh_ms = (time.perf_counter() - started) * 1000
    rows = conn.execute("SELECT count(*) FROM public.user_day_rollups").fetchone()
    per_with = with_ms / max(len(range(0, users, 2)), 1)
    per_without = without_ms / max(len(range(1, users, 2)), 1)
    out = {
        "users": users,
        "checkin_ms_with_rollups": round(per_with, 3),
        "checkin_ms_without_rollups": round(per_without, 3),
        "append_day_ms": round(per_with * users, 1),
        "append_day_without_rollups_ms": round(per_without * users, 1),
        "rollups_ms_per_checkin": round(per_with - per_without, 3),
        "rollups_share_of_writes": round((per_with - per_without) / per_with, 3) if per_with else None,
        "rollups_backfill_of_half_day_ms": round(backfill_ms, 1),
        "rollup_rows_filled_by_backfill": filled[0] if filled else None,
        "guide_refresh_concurrent_ms": round(refresh_ms, 1),
        "rollup_rows": rows[0] if rows else None,
        "errors": len(with_errors) + len(without_errors),
        "first_error": (with_errors + without_errors or [None])[0],
    }
    log(
        f"one day of check-ins ({users:,} users): {per_with:.2f} ms per check-in with the rollups' trigger, "
        f"{per_without:.2f} ms without (share {out['rollups_share_of_writes']}); REFRESH MATERIALIZED VIEW "
        f"CONCURRENTLY user_daily_metrics {refresh_ms:.0f} ms"
    )
    return out
