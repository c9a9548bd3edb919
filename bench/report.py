"""Results: bench/results/<date>-<size>.json and the markdown tables in bench/README.md."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .stats import ratio

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
TARGET_P99_MS = 15.0  # at half the measured capacity (a fixed offered load), not at saturation
TARGET_THROUGHPUT_RATIO = 0.6
TARGET_GROWTH_RATIO = 1.5
# CPU milliseconds per request, database + gateway, at the concurrent gateway measurement
TARGET_CPU_MS = {
    "list_checkins": 1.0,
    "create_checkin": 2.0,
    "timeline": 1.5,
    "analytics": 1.5,
    "daily_summary": 0.8,
    "daily_insight": 0.8,
    "create_event": 0.8,
    "user_metrics": 0.8,
}


def json_path(result: dict[str, Any], results_dir: Path) -> Path:
    return results_dir / f"{result['date']}-{result['size']}.json"


def write_json(result: dict[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = json_path(result, results_dir)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)
    return path


def latest_by_size(results_dir: Path) -> dict[str, dict[str, Any]]:
    """The most recent result of each size found in results_dir."""
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        size = data.get("size")
        if isinstance(size, str) and str(data.get("finished_at", "")) >= str(
            latest.get(size, {}).get("finished_at", "")
        ):
            latest[size] = data
    return latest


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def routes_table(result: dict[str, Any]) -> list[str]:
    n = result["parameters"]["clients"]
    lines = [
        f"| route | direct 1c /s | 1c p50 ms | direct {n}c /s | {n}c p50 ms | {n}c p99 ms | gateway {n}c /s "
        "| gw p50 ms | gw p99 ms | gw/direct /s | p50 x | p99 x | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result["routes"].values():
        d1, dn, gw, ra = r["direct_1"], r["direct_n"], r["gateway"], r["ratios"]
        errors = d1["errors"] + dn["errors"] + gw["errors"]
        lines.append(
            f"| {r['label']} | {_f(d1['throughput'], 0)} | {_f(d1['p50_ms'])} | {_f(dn['throughput'], 0)} "
            f"| {_f(dn['p50_ms'])} | {_f(dn['p99_ms'])} | {_f(gw['throughput'], 0)} | {_f(gw['p50_ms'])} "
            f"| {_f(gw['p99_ms'])} | {_f(ra['throughput'])} | {_f(ra['p50'])} | {_f(ra['p99'])} | {errors} |"
        )
    return lines


def cpu_table(result: dict[str, Any]) -> list[str]:
    """CPU milliseconds per request on each side, at the concurrent measurements (from /proc)."""
    rows = [r for r in result["routes"].values() if r.get("cpu_ms_per_request")]
    if not rows or rows[0]["cpu_ms_per_request"]["direct_n"]["database"] is None:
        return []
    n = result["parameters"]["clients"]
    cores = result["machine"]["nproc"]
    lines = [
        f"| CPU ms per request ({n} clients) | database, direct | pgbench | database, via gateway | gateway "
        f"| wrk | gateway / database | latency floor at {n} conns, ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        dn, gw = r["cpu_ms_per_request"]["direct_n"], r["cpu_ms_per_request"]["gateway"]
        share = gw["gateway"] / gw["database"] if gw["database"] and gw["gateway"] is not None else None
        floor = latency_floor(gw, n, cores)
        lines.append(
            f"| {r['label']} | {_f(dn['database'], 3)} | {_f(dn['load_generator'], 3)} | {_f(gw['database'], 3)} "
            f"| {_f(gw['gateway'], 3)} | {_f(gw['load_generator'], 3)} | {_f(share)} | {_f(floor)} |"
        )
    return lines


def latency_floor(cpu_ms: dict[str, float | None], connections: int, cores: int) -> float | None:
    """The least mean latency `connections` closed-loop clients can see when every request costs this much CPU
    on `cores` cores shared by all sides (Little's law: latency = connections / throughput, and throughput
    cannot exceed cores / CPU per request)."""
    parts = [cpu_ms.get(k) for k in ("database", "gateway", "load_generator")]
    if any(p is None for p in parts):
        return None
    return connections * sum(p for p in parts if p is not None) / cores


def growth_table(result: dict[str, Any]) -> list[str]:
    growth = result.get("growth") or {}
    if not growth:
        return []
    lines = [
        "| per-user read (direct, 1 client) | 30 days p50 ms | 90 days p50 ms | 3 years p50 ms | 3y / 30d | 3y / 90d |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for key, g in growth.items():
        u = g["users"]
        lines.append(
            f"| {key} | {_f(u['hist30d']['p50_ms'])} | {_f(u['hist90d']['p50_ms'])} | {_f(u['hist3y']['p50_ms'])} "
            f"| {_f(g['ratio_3y_30d_p50'])} | {_f(g['ratio_3y_90d_p50'])} |"
        )
    return lines


def sizes_table(latest: dict[str, dict[str, Any]]) -> list[str]:
    order = [s for s in ("tiny", "small", "medium", "large") if s in latest]
    lines = [
        "| size | users x days | events | database | load events/s | refresh full ms | refresh concurrent ms "
        "| timeline 3y p50 ms | analytics 3y p50 ms | timeline route 1c p50 ms | analytics route 1c p50 ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for size in order:
        r = latest[size]
        p, load, g, routes = r["parameters"], r["load"], r.get("growth") or {}, r["routes"]
        refresh = r.get("refresh") or {}
        full_ms = refresh.get("full", {}).get("total_ms")
        concurrent_ms = refresh.get("concurrent", {}).get("total_ms")

        def gp50(key: str, g: dict[str, Any] = g) -> Any:
            return g.get(key, {}).get("users", {}).get("hist3y", {}).get("p50_ms")

        def rp50(key: str, routes: dict[str, Any] = routes) -> Any:
            return routes.get(key, {}).get("direct_1", {}).get("p50_ms")

        lines.append(
            f"| {size} | {_f(p['users'])} x {p['days']} | {_f(load.get('health_events_rows'))} "
            f"| {_f((load.get('database_bytes') or 0) / 2**30)} GiB | {_f(load.get('events_per_s'))} "
            f"| {_f(full_ms, 0)} | {_f(concurrent_ms, 0)} "
            f"| {_f(gp50('timeline'))} | {_f(gp50('analytics'))} | {_f(rp50('timeline'))} | {_f(rp50('analytics'))} |"
        )
    return lines


def _dig(d: dict[str, Any] | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def before(previous: dict[str, Any], results_dir: Path) -> dict[str, Any]:
    """The figures of the previous run of the same size that the scale table compares with (kept in the new
    result, so the comparison survives the previous JSON being replaced by a run of the same day)."""
    refresh = previous.get("refresh") or {}
    return {
        "file": json_path(previous, results_dir).name,
        "finished_at": previous.get("finished_at"),
        "git_commit": _dig(previous, "versions", "git_commit"),
        "guide_refresh_concurrent_ms": _dig(previous, "freshness", "guide_refresh_concurrent_ms")
        or _dig(refresh, "concurrent", "views", "user_daily_metrics", "duration_ms"),
        "refresh_concurrent_total_ms": _dig(refresh, "concurrent", "total_ms"),
        "create_checkin_direct_1_per_s": _dig(previous, "routes", "create_checkin", "direct_1", "throughput"),
        "create_checkin_direct_n_per_s": _dig(previous, "routes", "create_checkin", "direct_n", "throughput"),
        "growth_p50_ms": {
            key: {u: _dig(g, "users", u, "p50_ms") for u in ("hist30d", "hist90d", "hist3y")}
            for key, g in (previous.get("growth") or {}).items()
        },
    }


def scale_table(result: dict[str, Any]) -> list[str]:
    """Keeping the metrics fresh, reads against history, and the write path, against the previous run of the
    same size (result["before"]): ratio = this run / the previous one."""
    fresh = result.get("freshness")
    if not fresh:
        return []
    prev = result.get("before") or {}
    n = result["parameters"]["clients"]
    growth = result.get("growth") or {}

    def _ratio(a: Any, b: Any) -> float | None:
        return ratio(a, b) if isinstance(a, int | float) and isinstance(b, int | float) else None

    def row(label: str, now: Any, then: Any, digits: int = 2) -> str:
        r = _ratio(now, then)
        return f"| {label} | {_f(now, digits)} | {_f(then, digits)} | {_f(r)} |"

    def p50(key: str, user: str, source: dict[str, Any]) -> Any:
        return _dig(source, key, "users", user, "p50_ms")

    def prev_p50(key: str, user: str) -> Any:
        return _dig(prev, "growth_p50_ms", key, user)

    routes = result["routes"]
    lines = [
        f"Scale with history (previous run: {prev.get('file', 'none')}"
        + (f", commit {prev['git_commit']}" if prev.get("git_commit") else "")
        + f"). One simulated day: one check-in for each of the {_f(fresh['users'])} loaded users (every other one "
        "with the rollups' trigger disabled, to measure its share), then the guide's `REFRESH MATERIALIZED VIEW "
        "CONCURRENTLY user_daily_metrics`; before the rollups that refresh aggregated the whole event log.",
        "",
        "| figure | this run | previous run | this / previous |",
        "|---|--:|--:|--:|",
        row("one day of check-ins, ms (rollups kept by the writes)", fresh["append_day_ms"], None, 0),
        row("a check-in with the rollups' trigger, ms", fresh["checkin_ms_with_rollups"], None, 3),
        row("a check-in with the trigger disabled, ms", fresh["checkin_ms_without_rollups"], None, 3),
        row("rollups' share of a check-in's write", fresh["rollups_share_of_writes"], None, 3),
        row(
            "guide's REFRESH ... CONCURRENTLY user_daily_metrics, ms",
            fresh["guide_refresh_concurrent_ms"],
            prev.get("guide_refresh_concurrent_ms"),
            0,
        ),
    ]
    for key, label in (("analytics", "analytics (quarter)"), ("user_metrics", "user metrics")):
        for user, days in (("hist30d", "30-day"), ("hist3y", "3-year")):
            lines.append(row(f"{label}, direct 1c p50 ms, {days} user", p50(key, user, growth), prev_p50(key, user)))
        now_r = _ratio(p50(key, "hist3y", growth), p50(key, "hist30d", growth))
        then_r = _ratio(prev_p50(key, "hist3y"), prev_p50(key, "hist30d"))
        lines.append(row(f"{label}, 3-year / 30-day", now_r, then_r))
    cc = routes.get("create_checkin") or {}
    lines += [
        row(
            "create check-in, direct 1c /s",
            _dig(cc, "direct_1", "throughput"),
            prev.get("create_checkin_direct_1_per_s"),
            0,
        ),
        row(
            f"create check-in, direct {n}c /s",
            _dig(cc, "direct_n", "throughput"),
            prev.get("create_checkin_direct_n_per_s"),
            0,
        ),
    ]
    return lines


def half_load_table(result: dict[str, Any]) -> list[str]:
    """The gateway at a fixed offered load of half its measured capacity (Poisson arrivals, bench/lua/rotate.lua)."""
    rows = [r for r in result["routes"].values() if r.get("gateway_half_load")]
    if not rows:
        return []
    n = result["parameters"]["clients"]
    lines = [
        f"| at half the capacity ({n} connections, paced) | offered /s | served /s | p50 ms | p99 ms | max ms "
        "| errors |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        h = r["gateway_half_load"]
        lines.append(
            f"| {r['label']} | {_f(r['gateway']['throughput'] / 2, 0)} | {_f(h['throughput'], 0)} | {_f(h['p50_ms'])} "
            f"| {_f(h['p99_ms'])} | {_f(h['max_ms'])} | {h['errors']} |"
        )
    return lines


def _cpu_total(route: dict[str, Any]) -> float | None:
    cpu = (route.get("cpu_ms_per_request") or {}).get("gateway") or {}
    parts = [cpu.get("database"), cpu.get("gateway")]
    return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]


def targets(result: dict[str, Any]) -> list[str]:
    routes = result["routes"]
    out = []
    for key, target in TARGET_CPU_MS.items():
        total = _cpu_total(routes[key]) if key in routes else None
        if total is not None:
            out.append(
                f"- {routes[key]['label']}: CPU per request (database + gateway) ≤ {target:g} ms: "
                f"{_mark(total <= target)} {total:.2f} ms" + ("" if total <= target else f" ({total / target:.1f}x)")
            )
    halves = [r for r in routes.values() if r.get("gateway_half_load")]
    if halves:
        worst = max(halves, key=lambda r: r["gateway_half_load"]["p99_ms"])
        p99 = worst["gateway_half_load"]["p99_ms"]
        out.append(
            f"- p99 < {TARGET_P99_MS:g} ms at half the capacity, every route: {_mark(p99 < TARGET_P99_MS)} worst "
            f"{worst['label']} {p99:.2f} ms" + ("" if p99 < TARGET_P99_MS else f" ({p99 / TARGET_P99_MS:.1f}x)")
        )
    worst_ratio = min(routes.values(), key=lambda r: r["ratios"]["throughput"] or 0, default=None)
    if worst_ratio:
        r = worst_ratio["ratios"]["throughput"] or 0
        out.append(
            f"- gateway throughput ≥ {TARGET_THROUGHPUT_RATIO:.0%} of direct on every route: "
            f"{_mark(r >= TARGET_THROUGHPUT_RATIO)} lowest {worst_ratio['label']} {r:.0%}"
        )
    for key, g in (result.get("growth") or {}).items():
        # analytics over a quarter: the 30-day user fills a third of the window; 3y / 90d is like for like
        basis = "3y / 90d" if key == "analytics" else "3y / 30d"
        ratio_value = g["ratio_3y_90d_p50" if key == "analytics" else "ratio_3y_30d_p50"] or 0
        out.append(
            f"- {key} flat with history ({basis} ≤ {TARGET_GROWTH_RATIO}): "
            f"{_mark(ratio_value <= TARGET_GROWTH_RATIO)} {ratio_value:.2f}x"
        )
    return out


def _run_label(result: dict[str, Any]) -> str:
    commit = (result.get("versions") or {}).get("git_commit") or "?"
    return f"{result['date']} {result['size']} at {commit}"


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Two runs side by side, route by route: CPU per request (database + gateway, at the concurrent gateway
    measurement), gateway throughput and its share of direct, gateway p99, and the bytes of a response."""

    def ratio(a: float | None, b: float | None) -> str:
        return f"{b / a:.2f}x" if a and b is not None else "-"

    def size(m: dict[str, Any]) -> str:
        n = m.get("bytes_per_response")
        return "-" if n is None else f"{n:,.0f}"

    lines = [
        f"Before: {_run_label(before)} (`{before['command']}`, load average {before['load_average']['before']}); "
        f"after: {_run_label(after)} (`{after['command']}`, load average {after['load_average']['before']}).",
        "",
        "| route | CPU ms/req before | after | after / before | gateway /s before | after | gw/direct before "
        "| after | gw p99 ms before | after | bytes/response before | after |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for key, a in after["routes"].items():
        b = before["routes"].get(key)
        if b is None:
            continue
        cb, ca = _cpu_total(b), _cpu_total(a)
        gb, ga = b["gateway"], a["gateway"]
        lines.append(
            f"| {a['label']} | {_f(cb)} | {_f(ca)} | {ratio(cb, ca)} | {_f(gb['throughput'], 0)} "
            f"| {_f(ga['throughput'], 0)} | {_f(b['ratios']['throughput'])} | {_f(a['ratios']['throughput'])} "
            f"| {_f(gb['p99_ms'])} | {_f(ga['p99_ms'])} | {size(gb)} | {size(ga)} |"
        )
    return lines


def slowest(result: dict[str, Any]) -> list[str]:
    s = result.get("slowest")
    if not s:
        return []
    out = [f"Slowest route in the database (direct, 1 client, p50): **{s['label']}** ({s['p50_ms']:.2f} ms)."]
    nested = s.get("statements", {}).get("nested") or []
    if nested:
        out.append("Its most expensive nested statements (pg_stat_statements, per request):")
        out.append("")
        out += [
            f"- {_f(n['ms_per_request'], 3)} ms ({_f((n['share_of_call'] or 0) * 100, 0)} % of the call), "
            f"{n['calls_per_request']} calls: `{n['query'][:140]}`"
            for n in nested[:3]
        ]
    return out


SIZE_ORDER = ("tiny", "small", "medium", "large")


def images(result: dict[str, Any], results_dir: Path | None, readme_dir: Path | None) -> list[str]:
    """Markdown images of the run's charts (bench/charts.py) that exist, relative to the README."""
    if results_dir is None or readme_dir is None:
        return []
    from .charts import CHARTS, chart_path

    out = []
    for chart in CHARTS:
        path = chart_path(json_path(result, results_dir), chart)
        if path.exists():
            out.append(f"![{chart}, {result['size']}]({os.path.relpath(path, readme_dir)})")
    return [" ".join(out), ""] if out else []


def section(result: dict[str, Any], charts: list[str] | None = None) -> str:
    """One run's figures: the data, the routes, the CPU split, growth, targets, the slowest route."""
    m, p = result["machine"], result["parameters"]
    load = result["load"]
    lines = [
        f"### {result['size']} ({result['date']})",
        "",
        f"`{result['command']}` — {m['nproc']} cores ({m['cpu_model']}), {m['memory_gb']} GB; PostgreSQL "
        f"{result['settings'].get('server_version', '?')}; load average before/after "
        f"{result['load_average']['before']} / {result['load_average']['after']}; {p['duration_s']} s per "
        f"measurement; data dir {p['pgdata']}; fsync {result['settings'].get('fsync')}, synchronous_commit "
        f"{result['settings'].get('synchronous_commit')}; gateway: {p.get('gateway_workers', 1)} uvicorn "
        f"worker(s); run took {result['elapsed_s']:.0f} s.",
        "",
        f"Data: {_f(p['users'])} users x {p['days']} days + history users (30 d, 90 d, 3 y) + {p['writers']} "
        f"writers: {_f(load['checkins'])} check-ins, {_f(load.get('health_events_rows'))} events, "
        f"{_f((load.get('database_bytes') or 0) / 2**20, 0)} MiB; written at {_f(load['events_per_s'])} events/s "
        f"({_f(load['checkins_per_s'])} check-ins/s), sign-ups {_f(load['signups_per_s'])}/s. Daily insight, first "
        f"call of the day: {_f(result['daily_insight_first_call']['mean_ms_per_first_call'])} ms.",
        "",
        *(charts or []),
        *routes_table(result),
        "",
        *cpu_table(result),
        "",
        *half_load_table(result),
        "",
        *growth_table(result),
        "",
        *scale_table(result),
        "",
        "Targets:",
        "",
        *targets(result),
        "",
        *slowest(result),
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"  # a table that has nothing to show leaves no gap


def markdown(
    latest: dict[str, dict[str, Any]],
    only: str | None = None,
    results_dir: Path | None = None,
    readme_dir: Path | None = None,
) -> str:
    """The latest run of each size (or of `only`), then the comparison across sizes; with the charts drawn in
    results_dir, linked relative to readme_dir."""
    sizes = [s for s in SIZE_ORDER if s in latest and (only is None or s == only)]
    parts = [section(latest[s], images(latest[s], results_dir, readme_dir)) for s in sizes]
    parts.append("\n".join(["### Across sizes (latest run of each)", "", *sizes_table(latest)]) + "\n")
    return "\n".join(parts)


def update_readme(readme: Path, text: str) -> None:
    """Replace what is between the markers (append the markers when missing)."""
    current = readme.read_text() if readme.exists() else ""
    block = f"{START}\n{text}{END}"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        _, tail = rest.split(END, 1)
        new = head + block + tail
    else:
        new = current.rstrip() + ("\n\n" if current else "") + block + "\n"
    readme.write_text(new)
