"""Replication and failover (`make test-ha`): real PostgreSQL servers managed by real Patroni and etcd
(novara/cluster.py), HTTP through real `novara serve` gateways that follow the primary and read from the standbys.

1. Failover under load: 16 clients write (with Idempotency-Key, retrying until acknowledged) through one gateway and
   read through the other; the primary's WAL senders are stopped for a moment (so it holds WAL no standby has, as a
   primary that dies mid-stream does), then its PostgreSQL is killed with SIGKILL (postmaster and every backend);
   Patroni promotes a standby that holds every acknowledged commit. Every acknowledged write is stored exactly
   once, no answer is a 500 (only the contract's 503 with Retry-After), writes are served again within
   WRITES_BACK_MAX_S, and no read showed a client less than it had been told was written. The old primary rejoins
   as a standby with pg_rewind.
2. A standby whose replay is paused: a client's read with its X-Novara-LSN falls back to the primary and sees its
   write; without the header the same standby answers without it (it really lags).
3. Switchover back to the first node under load, with the same checks; the demoted primary rejoins.
4. Loss of the primary's whole machine (its Patroni killed too): nobody hands the leader key over, so the failover
   waits for it to expire (ttl); the same checks, and the node's Patroni, started again, brings it back as a standby.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from novara import embedded
from novara.cluster import Cluster, Node, start_node, wait_healthy
from tests.reliability._stack import signup

from . import _load
from ._load import LSN_HEADER, Client, Load, first_write_after, longest_write_gap, reads_by_source, verify
from .conftest import Gateway, rows, start_gateway

pytestmark = pytest.mark.ha

CLIENTS = 16
BEFORE_S = 6.0  # load before the fault
AFTER_S = 6.0  # load after writes are served again
WRITES_BACK_MAX_S = 15.0  # from the kill to the first acknowledged write sent after it
HEALTHY_MAX_S = 120.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def kill_postgres(cluster: Cluster, node: Node) -> None:
    """SIGKILL the node's postmaster and every process it started: a crash, not a shutdown."""
    pid = embedded.postmaster_pid(node.data_dir(cluster.root))
    assert pid is not None, f"{node.name} runs no PostgreSQL"
    for victim in [pid, *_children(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def diverge(cluster: Cluster, node: Node) -> None:
    """Give the primary WAL that no standby has: stop its WAL senders (SIGSTOP), then write a checkpoint. The commits
    that arrive meanwhile are written locally but wait for a standby's acknowledgement that cannot come (never
    acknowledged: the load retries them). A crash now leaves an old primary ahead of the new one's fork point, which
    can only rejoin through pg_rewind."""
    with psycopg.connect(cluster.node_url(node, "postgres"), autocommit=True) as conn:
        senders = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_replication")]
        assert senders, f"{node.name} has no WAL sender"
        for pid in senders:
            os.kill(pid, signal.SIGSTOP)
        conn.execute("CHECKPOINT")


def pause_replay(cluster: Cluster, standby: psycopg.Connection[Any], timeout: float = 30) -> None:
    """Pause a standby's replay, and wait until it has paused: pg_wal_replay_pause() only requests it, and the
    standby may replay more before it stops, which it does at its next WAL record (the primary writes one every
    0.1 s meanwhile). The cluster must be in Patroni's maintenance mode: else Patroni resumes the replay at its next
    loop."""
    standby.execute("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + timeout
    with psycopg.connect(cluster.owner_url(), autocommit=True) as primary:
        while (standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() or ("",))[0] != "paused":
            assert time.monotonic() < deadline, "the standby's replay did not pause"
            primary.execute("SELECT pg_logical_emit_message(false, 'novara-ha', 'nudge', true)")
            time.sleep(0.1)


def _clients(cluster: Cluster, gateways: list[Gateway], tag: str) -> list[Client]:
    """CLIENTS users; client i writes through gateway i % 2 and reads through the other one."""
    out = []
    for i in range(CLIENTS):
        write, read = gateways[i % 2], gateways[(i + 1) % 2]
        user_id, token = signup(write.url, f"{tag}-{i}@ha.example")
        out.append(Client(i, user_id, token, write.url, read.url))
    return out


def _wait_leader(cluster: Cluster, not_: str | None, timeout: float = 60) -> tuple[str, float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        leader = cluster.leader()
        if leader is not None and leader != not_:
            return leader, time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"no new leader within {timeout} s: {cluster.members()}")


def _wait_writes_back(clients: list[Client], instant: float, timeout: float) -> float:
    deadline = instant + timeout + 5
    while time.monotonic() < deadline:
        if (n := first_write_after(clients, instant)) is not None:
            return n
        time.sleep(0.05)
    raise AssertionError(f"no write acknowledged within {timeout + 5} s of the fault")


def _check(verdict: _load.Verdict) -> None:
    assert not verdict.lost, f"acknowledged writes lost: {verdict.lost[:5]}"
    assert not verdict.duplicates, f"writes stored twice: {verdict.duplicates[:5]}"
    assert verdict.found == verdict.acknowledged
    assert not verdict.bad, f"5xx other than 503 with Retry-After, hangs or 4xx: {verdict.bad[:5]}"
    assert not verdict.stale, f"stale reads: {verdict.stale[:5]}"


def _row(name: str, verdict: _load.Verdict, **extra: Any) -> dict[str, Any]:
    return {
        "scenario": name,
        "writes acknowledged": verdict.acknowledged,
        "writes found (exactly once)": verdict.found,
        "duplicates": len(verdict.duplicates),
        "writes unacknowledged at the stop": verdict.unacked,
        "5xx other than 503": len([b for b in verdict.bad if " 5" in b]),
        "answers by status": dict(sorted(verdict.statuses.items())),
        "reads checked": verdict.reads,
        "stale reads": len(verdict.stale),
        **extra,
    }


def _rewinds(cluster: Cluster, node: Node) -> int:
    return len(re.findall(r"running pg_rewind from", node.log_file(cluster.root).read_text(errors="replace")))


def test_failover_under_load(ha_cluster: Cluster, gateways: list[Gateway]) -> None:
    cluster = ha_cluster
    old = cluster.node(wait_healthy(cluster))
    clients = _clients(cluster, gateways, "failover")
    rewinds_before = _rewinds(cluster, old)
    before = {g.url: reads_by_source(g.metrics()) for g in gateways}
    with Load(clients) as load:
        time.sleep(BEFORE_S)
        diverge(cluster, old)
        killed = time.monotonic()
        kill_postgres(cluster, old)
        new, promoted_s = _wait_leader(cluster, old.name)
        writes_back_s = _wait_writes_back(clients, killed, WRITES_BACK_MAX_S)
        time.sleep(AFTER_S)
        ended = time.monotonic()
        load.stop()
    gap_s = longest_write_gap(clients, killed - 1, ended)
    with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
        verdict = verify(conn, clients)
    after = {g.url: reads_by_source(g.metrics()) for g in gateways}
    sources = {
        k: sum(after[u].get(k, 0) - before[u].get(k, 0) for u in after) for k in {k for m in after.values() for k in m}
    }
    # The old primary comes back by itself: Patroni on its node recovers it and rewinds it onto the new timeline.
    wait_healthy(cluster, HEALTHY_MAX_S)
    rejoin_s = time.monotonic() - killed
    rewound = _rewinds(cluster, old) - rewinds_before
    rows.append(
        _row(
            "kill -9 of the primary's PostgreSQL under load (its WAL senders stopped just before)",
            verdict,
            clients=CLIENTS,
            killed=old.name,
            promoted=new,
            **{
                "leader changed after (s)": round(promoted_s, 2),
                "time to first write after the kill (s)": round(writes_back_s, 2),
                "longest time without an acknowledged write (s)": round(gap_s, 2),
                "reads by source": sources,
                "old primary streaming again, at most (s after the kill)": round(rejoin_s, 1),
                "old primary rewound (pg_rewind)": "yes" if rewound else "no",
            },
        )
    )
    _check(verdict)
    assert verdict.acknowledged > 200, "the load hardly wrote: the check proves little"
    assert writes_back_s < WRITES_BACK_MAX_S
    assert rewound >= 1, "the old primary rejoined without pg_rewind"


def test_lagging_standby_never_serves_stale_reads(ha_cluster: Cluster, gateways: list[Gateway]) -> None:
    """Replay paused on one standby (Patroni in maintenance mode meanwhile, or it would resume the replay); a gateway
    that reads only from it. A client's read with the X-Novara-LSN of its write falls back to the primary (and sees
    the write); without it, the standby answers, without the write."""
    cluster = ha_cluster
    leader = wait_healthy(cluster)
    standby = next(n for n in cluster.nodes if n.name != leader)
    only_standby = cluster.read_url().replace(cluster.hosts(), f"127.0.0.1:{standby.pg_port}")
    lagging = start_gateway(cluster, "lagging", only_standby)
    try:
        _user_id, token = signup(gateways[0].url, "lagging@ha.example")
        auth = {"Authorization": f"Bearer {token}"}
        paused = cluster.patronictl("pause", "--wait", check=False)
        assert paused.returncode == 0, paused.stdout + paused.stderr
        with psycopg.connect(cluster.node_url(standby), autocommit=True) as conn:
            pause_replay(cluster, conn)
            try:
                r = httpx.post(
                    f"{gateways[0].url}/api/v2/health/events",
                    json=_load.event_body(random.Random(1)),
                    headers=auth,
                    timeout=10,
                )
                assert r.status_code == 201, r.text
                written, lsn = r.json()["event"]["id"], r.headers[LSN_HEADER]
                replay = conn.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
                assert replay is not None and _load.lsn_value(replay[0]) < _load.lsn_value(lsn), "not lagging"
                before = reads_by_source(lagging.metrics())
                fresh = httpx.get(f"{lagging.url}/api/users/me/export", headers={**auth, LSN_HEADER: lsn}, timeout=10)
                blind = httpx.get(f"{lagging.url}/api/users/me/export", headers=auth, timeout=10)
                after = reads_by_source(lagging.metrics())
            finally:
                conn.execute("SELECT pg_wal_replay_resume()")
                resumed = cluster.patronictl("resume", "--wait", check=False)
                assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert fresh.status_code == 200, fresh.text
        assert written in {e["id"] for e in fresh.json()["export"]["events"]}, "a stale read with the LSN header"
        assert blind.status_code == 200, blind.text
        assert written not in {e["id"] for e in blind.json()["export"]["events"]}, f"the standby did not lag: {after}"
        fallbacks = after.get("primary-fallback", 0) - before.get("primary-fallback", 0)
        assert fallbacks == 1
        rows.append(
            {
                "scenario": "standby with replay paused (a gateway reading only from it)",
                "read with the write's X-Novara-LSN": "fell back to the primary, saw the write",
                "read without the header": "served by the standby, without the write (it lags)",
                "stale reads with the header": 0,
            }
        )
    finally:
        lagging.stop()
    wait_healthy(cluster)


def test_switchover_back_under_load(ha_cluster: Cluster, gateways: list[Gateway]) -> None:
    """Patroni's switchover to the first node (the one killed in the failover test, if it ran), under load: no write
    lost or doubled, no 500, no stale read; the demoted primary rejoins as a standby."""
    cluster = ha_cluster
    leader = wait_healthy(cluster)
    target = cluster.nodes[0].name if cluster.nodes[0].name != leader else cluster.nodes[1].name
    clients = _clients(cluster, gateways, "switchover")
    with Load(clients) as load:
        time.sleep(3)
        started = time.monotonic()
        done = cluster.patronictl("switchover", "--leader", leader, "--candidate", target, "--force", check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        new, _ = _wait_leader(cluster, leader)
        switched_s = time.monotonic() - started
        _wait_writes_back(clients, started + switched_s, WRITES_BACK_MAX_S)
        time.sleep(3)
        ended = time.monotonic()
        load.stop()
    gap_s = longest_write_gap(clients, started, ended)
    assert new == target
    with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
        verdict = verify(conn, clients)
    wait_healthy(cluster, HEALTHY_MAX_S)
    rows.append(
        _row(
            "switchover back (patronictl switchover) under load",
            verdict,
            clients=CLIENTS,
            **{
                "from": leader,
                "to": new,
                "patronictl switchover returned after (s)": round(switched_s, 2),
                "longest time without an acknowledged write (s)": round(gap_s, 2),
                "demoted primary streaming again, at most (s after the switchover began)": round(
                    time.monotonic() - started, 1
                ),
            },
        )
    )
    _check(verdict)


MACHINE_LOSS_MAX_S = 35.0  # ttl (20 s) + loop_wait + the promotion, on a busy machine


def test_loss_of_the_primary_machine(ha_cluster: Cluster, gateways: list[Gateway]) -> None:
    """kill -9 of the primary's Patroni and PostgreSQL at once (the machine is gone) under load: the leader key
    expires after ttl, a standby that holds every acknowledged commit is promoted; the same checks as the failover
    above. The node's Patroni, started again (the machine is back), rejoins it as a standby."""
    cluster = ha_cluster
    lost = cluster.node(wait_healthy(cluster))
    clients = _clients(cluster, gateways, "machine")
    with Load(clients) as load:
        time.sleep(3)
        killed = time.monotonic()
        assert lost.pid is not None
        os.kill(lost.pid, signal.SIGKILL)
        kill_postgres(cluster, lost)
        new, promoted_s = _wait_leader(cluster, lost.name, MACHINE_LOSS_MAX_S + 10)
        writes_back_s = _wait_writes_back(clients, killed, MACHINE_LOSS_MAX_S)
        time.sleep(3)
        ended = time.monotonic()
        load.stop()
    gap_s = longest_write_gap(clients, killed - 1, ended)
    with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
        verdict = verify(conn, clients)
    restarted = time.monotonic()
    start_node(cluster, lost)
    wait_healthy(cluster, HEALTHY_MAX_S)
    rows.append(
        _row(
            "loss of the primary's machine (its Patroni and PostgreSQL killed) under load",
            verdict,
            clients=CLIENTS,
            killed=lost.name,
            promoted=new,
            **{
                "leader changed after (s)": round(promoted_s, 2),
                "time to first write after the kill (s)": round(writes_back_s, 2),
                "longest time without an acknowledged write (s)": round(gap_s, 2),
                "node streaming again after its Patroni was started (s)": round(time.monotonic() - restarted, 1),
            },
        )
    )
    _check(verdict)
    assert writes_back_s < MACHINE_LOSS_MAX_S


def test_cluster_commands(ha_cluster: Cluster) -> None:
    """`novara cluster status`, `env` and `ctl` on the running cluster: roles, the URLs (quoted for the shell),
    patronictl's list."""
    import subprocess
    import sys

    def novara(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "novara", "cluster", *args, "--dir", str(ha_cluster.root)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    status = novara("status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("streaming") == 2 and "leader" in status.stdout
    assert f"DATABASE_READ_URL={ha_cluster.read_url()}" in status.stdout
    env = novara("env")
    assert env.returncode == 0 and f"export MIGRATION_DATABASE_URL='{ha_cluster.owner_url()}'" in env.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "novara", "cluster", "ctl", "--dir", str(ha_cluster.root), "--", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and "Leader" in listed.stdout, listed.stdout + listed.stderr
