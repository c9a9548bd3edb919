"""One measurement's figures (pgbench or wrk) and the percentile arithmetic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    tool: str  # pgbench | wrk
    clients: int  # pgbench clients or wrk connections
    duration_s: float
    requests: int  # completed transactions / responses
    errors: int  # failed transactions, non-2xx responses, socket errors
    throughput: float  # per second
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bytes_per_response: float | None = None  # wrk: bytes read per response, status line and headers included

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence; 0.0 when it is empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None
