"""CPU seconds spent by each side of a measurement, read from /proc (Linux): where the time goes.

- database: the postmaster and all its children (backends, background processes); a backend that exits
  during the measurement is counted through the postmaster's reaped-children times (cutime, cstime).
- gateway: the `novara serve` process and its children (the uvicorn workers when --workers > 1).
- load generator: pgbench or wrk (this process's reaped children).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return raw[raw.rindex(")") + 2 :].split()


def process_seconds(pid: int, *, children: bool = False) -> float:
    """utime + stime of a process (plus its reaped children's when asked), in seconds; 0 when it is gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == ppid:
                pids.append(int(entry.name))
    return pids


def now_ticks() -> int:
    """Clock ticks since boot (the unit of a process's start time in /proc/<pid>/stat)."""
    return int(float(Path("/proc/uptime").read_text().split()[0]) * _TICK)


def settle(postmaster: int, since: int, timeout: float = 2.0) -> None:
    """Wait until every child of the postmaster started at or after `since` (ticks) has exited and been
    reaped: an exiting backend's CPU is otherwise missed (gone from the children, not yet in cutime)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        young = [pid for pid in _children(postmaster) if (_start_ticks(pid) or 0) >= since]
        if not young:
            return
        time.sleep(0.02)


def _start_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields is not None else None


def postgres_seconds(postmaster: int) -> float:
    return process_seconds(postmaster, children=True) + sum(process_seconds(pid) for pid in _children(postmaster))


def own_children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Sample:
    database: float
    gateway: float
    client: float


class Meter:
    """Snapshots of CPU seconds; None-safe when a process is not ours (no postmaster pid, no gateway)."""

    def __init__(self, postmaster: int | None, gateway: int | None):
        self.postmaster = postmaster
        self.gateway = gateway

    def sample(self) -> Sample:
        return Sample(
            database=postgres_seconds(self.postmaster) if self.postmaster else 0.0,
            gateway=(
                process_seconds(self.gateway) + sum(process_seconds(pid) for pid in _children(self.gateway))
                if self.gateway
                else 0.0
            ),
            client=own_children_seconds(),
        )

    def per_request_ms(self, before: Sample, after: Sample, requests: int) -> dict[str, float | None]:
        """CPU milliseconds per request of each side between two samples."""
        if requests <= 0:
            return {"database": None, "gateway": None, "load_generator": None}
        return {
            "database": round((after.database - before.database) * 1000 / requests, 4) if self.postmaster else None,
            "gateway": round((after.gateway - before.gateway) * 1000 / requests, 4) if self.gateway else None,
            "load_generator": round((after.client - before.client) * 1000 / requests, 4),
        }
