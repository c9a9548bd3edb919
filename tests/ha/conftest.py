"""The replicated cluster of `make test-ha`: one Patroni cluster (primary + two hot standbys, etcd) for the whole run,
under the scratch root, and `novara serve` gateways on it. Each test leaves the cluster healthy (three members, one
leader, two streaming) for the next. The figures go to the run's summary and .ha/last-run.json."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from novara import cluster as cluster_mod
from novara import embedded
from novara.background import start_serve
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".ha" / "last-run.json"
RUN_PREFIX = "novara-ha-"

rows: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not rows:
        return
    tr = terminalreporter
    tr.section("replication and failover")
    for row in rows:
        width = max(len(k) for k in row)
        for key, value in row.items():
            tr.write_line(f"{key:<{width}}  {value}")
        tr.write_line("")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "exit_status": int(exitstatus),
                "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                "runs": rows,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


def _clean_stale(root: Path) -> None:
    """Clusters left by killed runs (their owner process is gone): stop them and remove their folders."""
    for path in root.glob(RUN_PREFIX + "*"):
        try:
            owner = int(path.name[len(RUN_PREFIX) :].split("-")[0])
        except ValueError:
            continue
        try:
            os.kill(owner, 0)
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        if (path / cluster_mod.STATE_FILE).exists():
            cluster_mod.down(path, purge=True, say=lambda _line: None)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def ha_cluster() -> Iterator[cluster_mod.Cluster]:
    root = embedded.scratch_root()
    _clean_stale(root)
    path = root / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    try:
        cluster = cluster_mod.up(path, standbys=2, say=lambda _line: None)
        members = ", ".join(f"{m['name']} {m['role']} ({m['state']})" for m in cluster.members())
        rows.append({"cluster up (s)": round(time.monotonic() - started, 1), "members": members})
        yield cluster
    finally:
        # NOVARA_HA_KEEP=1 keeps the folder (logs, data) for a look after a failure.
        cluster_mod.down(path, purge=not os.environ.get("NOVARA_HA_KEEP"), say=lambda _line: None)


@dataclass
class Gateway:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text


def start_gateway(cluster: cluster_mod.Cluster, name: str, read_url: str | None) -> Gateway:
    """`novara serve` (one worker) on the cluster: DATABASE_URL lists every node (read-write), DATABASE_READ_URL the
    standbys (`read_url`; None: none)."""
    env = {k: v for k, v in os.environ.items() if k not in {"USE_SCHEMA_V2", "HOST", "PORT", "DATABASE_READ_URL"}}
    env.update({"DATABASE_URL": cluster.gateway_url(), "JWT_SECRET": SECRET, "DB_POOL_MAX": "20"})
    if read_url:
        env["DATABASE_READ_URL"] = read_url
    env.pop("MIGRATION_DATABASE_URL", None)
    log = cluster.root / f"gateway-{name}.log"
    proc, url = start_serve(["--host", "127.0.0.1", "--port", "0", "--workers", "1"], env, log)
    return Gateway(proc, url, log)


@pytest.fixture(scope="session")
def gateways(ha_cluster: cluster_mod.Cluster) -> Iterator[list[Gateway]]:
    """Two gateway instances, each reading from the standbys: a client writes through one and reads through the
    other."""
    started = [start_gateway(ha_cluster, name, ha_cluster.read_url()) for name in ("a", "b")]
    try:
        yield started
    finally:
        for g in started:
            g.stop()
