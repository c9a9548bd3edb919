"""PNG charts of a benchmark result, written next to its JSON (`<date>-<size>-<chart>.png`), with matplotlib (the
optional `bench` extra, which `make bench` installs).

  throughput  requests/s per route: direct at 1 client, direct at N clients, through the gateway at N connections
  latency     p50 and p99 per route at N: direct (pgbench) beside the gateway (wrk), on a log scale
  growth      per-user reads against the length of the user's history (30 days, 90 days, 3 years): flat is good

The figures are the JSON's; nothing is measured here, so `python -m bench --render-only` redraws every chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHARTS = ("throughput", "latency", "growth")
COLORS = {"direct_1": "#9ecae1", "direct_n": "#3182bd", "gateway": "#e6550d", "gateway_p99": "#fdae6b"}


def chart_path(json_path: Path, chart: str) -> Path:
    return json_path.with_name(f"{json_path.stem}-{chart}.png")


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _title(result: dict[str, Any], what: str) -> str:
    p = result["parameters"]
    return f"{what} — {result['size']} ({p['users']:,} users x {p['days']} days), {result['date']}"


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    # No software version in the file: a redraw of the same figures gives the same bytes on the same matplotlib.
    fig.savefig(path, dpi=100, metadata={"Software": None})


def throughput(result: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    routes = list(result["routes"].values())
    n = result["parameters"]["clients"]
    labels = [r["label"] for r in routes]
    series = [
        ("direct_1", "direct, 1 client"),
        ("direct_n", f"direct, {n} clients"),
        ("gateway", f"gateway, {n} connections"),
    ]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(routes) + 1.8))
    height = 0.26
    for i, (key, name) in enumerate(series):
        ys = [j + (i - 1) * height for j in range(len(routes))]
        ax.barh(ys, [r[key]["throughput"] or 0 for r in routes], height, label=name, color=COLORS[key])
    ax.set_yticks(range(len(routes)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("requests per second (more is better)")
    ax.set_title(_title(result, "Throughput per route"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def latency(result: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    routes = list(result["routes"].values())
    n = result["parameters"]["clients"]
    series = [
        ("direct_n", "p50_ms", f"direct p50 ({n} clients)", COLORS["direct_1"]),
        ("direct_n", "p99_ms", f"direct p99 ({n} clients)", COLORS["direct_n"]),
        ("gateway", "p50_ms", f"gateway p50 ({n} connections)", COLORS["gateway_p99"]),
        ("gateway", "p99_ms", f"gateway p99 ({n} connections)", COLORS["gateway"]),
    ]
    fig, ax = plt.subplots(figsize=(10, 0.7 * len(routes) + 1.8))
    height = 0.2
    for i, (run, figure, name, color) in enumerate(series):
        ys = [j + (i - 1.5) * height for j in range(len(routes))]
        ax.barh(ys, [r[run][figure] or 0 for r in routes], height, label=name, color=color)
    ax.set_yticks(range(len(routes)), [r["label"] for r in routes])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds, log scale (less is better)")
    ax.axvline(15, color="grey", linestyle="--", linewidth=1)
    ax.text(15, 0.995, " 15 ms: the p99 target", color="grey", fontsize=8, va="top", transform=ax.get_xaxis_transform())
    ax.set_title(_title(result, "Latency per route: direct vs gateway"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3, which="both")
    _save(fig, path)
    plt.close(fig)


def growth(result: dict[str, Any], path: Path) -> bool:
    """False (and no file) when the run measured no growth."""
    data = result.get("growth") or {}
    if not data:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key, g in data.items():
        users = sorted(g["users"].values(), key=lambda u: u["history_days"])
        days = [u["history_days"] for u in users]
        ax.plot(days, [u["p50_ms"] for u in users], marker="o", label=f"{key} p50")
        ax.plot(days, [u["p99_ms"] for u in users], marker=".", linestyle=":", label=f"{key} p99")
    ax.set_xscale("log")
    ax.set_xticks([30, 90, 365, 1095], ["30 days", "90 days", "1 year", "3 years"])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("length of the user's history")
    ax.set_ylabel("ms per call (direct, 1 client)")
    ax.set_title(_title(result, "Per-user reads as history grows"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return True


def draw(result: dict[str, Any], json_path: Path) -> list[Path]:
    """Every chart of one result, next to its JSON; the paths written."""
    written = []
    for chart, function in (("throughput", throughput), ("latency", latency), ("growth", growth)):
        path = chart_path(json_path, chart)
        if function(result, path) is not False:
            written.append(path)
    return written
