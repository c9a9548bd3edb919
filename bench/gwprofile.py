"""Where the gateway's time goes: one wrk measurement against `novara serve` run under cProfile.

cProfile slows Python down (roughly 1.5-2x), so the figures are shares of the gateway's time, not its
speed. Opt-in: `python -m bench --profile-gateway ROUTE`.
"""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

from . import server, wrk
from .pgbench import Users
from .routes import RouteClass


def profile_gateway(
    url: str, secret: str, workdir: Path, rc: RouteClass, users: Users, *, duration: int, clients: int, top: int = 15
) -> dict[str, Any]:
    stats_path = workdir / "gateway.pstats"
    tokens = wrk.write_tokens(workdir / f"{rc.key}-profile-tokens.txt", secret, users)
    with server.gateway(url, secret, workdir, profile_to=stats_path) as gw:
        # Check-ins: dates from 2010 on, clear of the measured run's (which start in 2001).
        m = wrk.run(
            gw.base_url,
            rc,
            tokens,
            connections=clients,
            duration=duration,
            workdir=workdir,
            per_thread=users.per_client or 1,
            first_date="2010-01-01",
        )
    stats = pstats.Stats(str(stats_path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values())
    rows = sorted(entries.items(), key=lambda item: -item[1][2])[:top]
    return {
        "route": rc.key,
        "requests": m.requests,
        "throughput_profiled": round(m.throughput, 1),
        "note": "cProfile inflates Python time; compare shares, not milliseconds",
        "top_by_own_time": [
            {
                "function": f"{Path(file).name}:{line}({name})",
                "share_of_process": round(tt / total, 3) if total else None,
                "ms_per_request": round(tt * 1000 / m.requests, 4) if m.requests else None,
                "calls_per_request": round(nc / m.requests, 2) if m.requests else None,
            }
            for (file, line, name), (_cc, nc, tt, _ct, _callers) in rows
        ],
    }
