"""A replicated cluster on this machine: PostgreSQL streaming replication managed by Patroni, with etcd as its store.

`novara cluster up` starts, from the embedded server's binaries, one etcd and N Patroni nodes (one primary, the rest
hot standbys cloned with pg_basebackup), each with its own data dir and ports on 127.0.0.1; Patroni elects the
primary, keeps one standby synchronous (synchronous_mode), gives each standby a replication slot, fails over and
switches over. Nothing here decides who is primary: that is Patroni's job, through etcd.

Who runs as whom: PostgreSQL refuses to run as root, and Patroni starts PostgreSQL itself, so Patroni runs as the
embedded server's system user (`embedded_postgres` when we are root), from a virtualenv of its own built on a Python
that user can read (the root virtualenv's Python lives in the private root home). etcd runs as that user too. The
state of a cluster (ports, passwords, pids) is in <dir>/cluster.json, readable by root only.

docs/operations.md ("Replication and failover") maps this layout to real machines and to managed PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from gateway.db import AUTHENTICATOR

from . import DB_DIR, embedded
from .migrate import migrate

PATRONI_VERSION = "4.1.5"
SCOPE = "novara"
DBNAME = "novara"
STATE_FILE = "cluster.json"
HOST = "127.0.0.1"

# Patroni's timings. ttl (20 s, Patroni's minimum) bounds a failover after the loss of a whole node (its Patroni
# too): the leader key expires. A crash of the primary's PostgreSQL under a live Patroni fails over at once
# (primary_start_timeout 0: no restart of the crashed primary in place), within about two loops of loop_wait.
# loop_wait + 2 * retry_timeout <= ttl (Patroni's rule).
DCS: dict[str, Any] = {
    "ttl": 20,
    "loop_wait": 1,
    "retry_timeout": 5,
    "primary_start_timeout": 0,
    "maximum_lag_on_failover": 1024 * 1024,
    # Quorum commit: a commit waits until one of the standbys has flushed it (synchronous_standby_names
    # 'ANY 1 (…)', synchronous_commit on), and Patroni promotes a standby only when it can tell, from a quorum of
    # the others, that it holds every acknowledged commit. So an acknowledged write survives the loss of the
    # primary, and any standby can be a switchover's candidate (in plain synchronous mode only the one named
    # synchronous can). Non-strict: with no standby left, the primary goes on alone rather than stopping writes.
    "synchronous_mode": "quorum",
    "synchronous_node_count": 1,
    "postgresql": {
        "use_pg_rewind": True,
        "use_slots": True,
        "parameters": {
            "shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "all",
            "max_connections": 200,
            "timezone": "UTC",
            "synchronous_commit": "on",
            "wal_level": "replica",
            "hot_standby": "on",
            "wal_log_hints": "on",
            "max_wal_senders": 10,
            "max_replication_slots": 10,
            "wal_keep_size": "128MB",
            # A standby's long read is not cancelled by the replay of a vacuum it would conflict with at once.
            "hot_standby_feedback": "on",
        },
    },
}


@dataclass
class Node:
    name: str
    pg_port: int
    api_port: int
    pid: int | None = None  # the Patroni process

    def data_dir(self, root: Path) -> Path:
        return root / self.name / "data"

    def config_file(self, root: Path) -> Path:
        return root / self.name / "patroni.json"

    def log_file(self, root: Path) -> Path:
        return root / self.name / "patroni.log"

    def api(self) -> str:
        return f"http://{HOST}:{self.api_port}"


@dataclass
class Cluster:
    root: Path
    etcd_port: int
    etcd_peer_port: int
    nodes: list[Node]
    passwords: dict[str, str]
    etcd_pid: int | None = None
    user: str | None = None  # the system user Patroni, PostgreSQL and etcd run as (None: ourselves)
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------------ state
    @classmethod
    def load(cls, root: Path) -> Cluster:
        data = json.loads((root / STATE_FILE).read_text())
        data["root"] = Path(data["root"])
        data["nodes"] = [Node(**n) for n in data["nodes"]]
        return cls(**data)

    def save(self) -> None:
        path = self.root / STATE_FILE
        data = asdict(self)
        data["root"] = str(self.root)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    # ------------------------------------------------------------------------------------------------- URLs
    def hosts(self) -> str:
        return ",".join(f"{HOST}:{n.pg_port}" for n in self.nodes)

    def owner_url(self, dbname: str = DBNAME, attrs: str = "read-write") -> str:
        """The superuser over TCP, on whichever node is the primary now."""
        pw = quote(self.passwords["superuser"], safe="")
        return f"postgresql://postgres:{pw}@{self.hosts()}/{dbname}?target_session_attrs={attrs}&connect_timeout=3"

    def gateway_url(self) -> str:
        """DATABASE_URL: the gateway's login; libpq tries each node and keeps the one that accepts writes."""
        pw = quote(self.passwords["authenticator"], safe="")
        return f"postgresql://{AUTHENTICATOR}:{pw}@{self.hosts()}/{DBNAME}?target_session_attrs=read-write"

    def read_url(self) -> str:
        """DATABASE_READ_URL: any standby, else the primary (libpq's prefer-standby)."""
        pw = quote(self.passwords["authenticator"], safe="")
        return f"postgresql://{AUTHENTICATOR}:{pw}@{self.hosts()}/{DBNAME}?target_session_attrs=prefer-standby"

    def node_url(self, node: Node, dbname: str = DBNAME) -> str:
        """The superuser on one node, whatever its role (over its unix socket)."""
        return f"postgresql://postgres@/{dbname}?host={quote(str(self.root / node.name))}&port={node.pg_port}"

    # ------------------------------------------------------------------------------------------------ Patroni
    def members(self) -> list[dict[str, Any]]:
        """Patroni's view of the cluster (GET /cluster on any node that answers): name, role, state, lag, timeline."""
        for node in self.nodes:
            with (
                contextlib.suppress(OSError, ValueError),
                urllib.request.urlopen(f"{node.api()}/cluster", timeout=2) as r,
            ):
                members: list[dict[str, Any]] = json.loads(r.read())["members"]
                return members
        return []

    def leader(self) -> str | None:
        for m in self.members():
            if m.get("role") == "leader" and m.get("state") == "running":
                return str(m["name"])
        return None

    def patronictl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """patronictl with the first node's configuration (it reads etcd, and calls the nodes' REST API)."""
        ctl = patroni_venv() / "bin" / "patronictl"
        return subprocess.run(
            [str(ctl), "-c", str(self.nodes[0].config_file(self.root)), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )


# ---------------------------------------------------------------------------------------------------- Patroni venv


def patroni_venv() -> Path:
    """Where Patroni is installed: NOVARA_PATRONI_VENV, else a folder the server's system user can read."""
    given = os.environ.get("NOVARA_PATRONI_VENV")
    if given:
        return Path(given)
    if os.geteuid() == 0:
        return Path(f"/opt/novara/patroni-{PATRONI_VERSION}")
    return Path.home() / ".cache" / "novara" / f"patroni-{PATRONI_VERSION}"


def base_python() -> str:
    """A Python the server's system user can run. As root, the system's (/usr/bin/python3): ours may live in the
    private root home (pyenv); otherwise, the one running now."""
    if os.geteuid() == 0 and Path("/usr/bin/python3").exists():
        return "/usr/bin/python3"
    return getattr(sys, "_base_executable", sys.executable)


def ensure_patroni(say: Any = print) -> Path:
    """Patroni (PyPI, with its etcd3 and psycopg 3 extras) in a virtualenv of its own; installed once."""
    venv = patroni_venv()
    stamp = venv / f".installed-{PATRONI_VERSION}"
    if stamp.exists():
        return venv
    say(f"installing Patroni {PATRONI_VERSION} into {venv} (once)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            f"patroni[etcd3,psycopg3]=={PATRONI_VERSION}",
        ],
        check=True,
    )
    for path in [venv, *venv.rglob("*")]:  # readable by the server's system user, whatever the umask was
        with contextlib.suppress(OSError):
            mode = path.lstat().st_mode
            if not path.is_symlink():
                path.chmod(mode | 0o044 | (0o011 if path.is_dir() or mode & 0o100 else 0))
    embedded.ensure_readable_path(venv)
    stamp.touch()
    return venv


def etcd_binary() -> str:
    found = shutil.which("etcd")
    if found is None:
        raise ClusterError("etcd is not installed: apt-get install etcd-server (or `make ha-tools`)")
    return found


class ClusterError(RuntimeError):
    """The cluster could not be started or reached; the message says what to look at."""


# ------------------------------------------------------------------------------------------------------- starting


def free_ports(n: int) -> list[int]:
    """n distinct ports free on 127.0.0.1 now (bound to 0 and released together, so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def patroni_config(cluster: Cluster, node: Node) -> dict[str, Any]:
    root = cluster.root
    pw = cluster.passwords
    return {
        "scope": SCOPE,
        "name": node.name,
        "log": {"level": "INFO", "format": "%(asctime)s %(levelname)s: %(message)s"},
        "restapi": {"listen": f"{HOST}:{node.api_port}", "connect_address": f"{HOST}:{node.api_port}"},
        "etcd3": {"hosts": [f"{HOST}:{cluster.etcd_port}"]},
        "bootstrap": {
            "dcs": DCS,
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums", {"auth-local": "trust"}],
        },
        "postgresql": {
            "listen": f"{HOST}:{node.pg_port}",
            "connect_address": f"{HOST}:{node.pg_port}",
            "data_dir": str(node.data_dir(root)),
            "bin_dir": str(embedded.bin_dir()),
            "pgpass": str(root / node.name / "pgpass"),
            "use_unix_socket": True,
            "authentication": {
                "superuser": {"username": "postgres", "password": pw["superuser"]},
                "replication": {"username": "replicator", "password": pw["replication"]},
                "rewind": {"username": "rewinder", "password": pw["rewind"]},
            },
            "parameters": {"unix_socket_directories": str(root / node.name)},
            # The socket trusts local logins, as the embedded server does, but the gateway's: every TCP login
            # needs its password (scram-sha-256).
            "pg_hba": [
                f"local all {AUTHENTICATOR} scram-sha-256",
                "local all all trust",
                f"host replication replicator {HOST}/32 scram-sha-256",
                f"host all all {HOST}/32 scram-sha-256",
            ],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }


def _spawn(cluster: Cluster, argv: list[str], log: Path) -> int:
    """Start a daemon as the cluster's system user, in a session of its own (it outlives this command), its output
    appended to `log`. The pid is the daemon's own (no runuser in between), so a test can kill -9 it."""
    as_user: dict[str, Any] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PYTHON", "VIRTUAL_ENV"))}
    if cluster.user:
        entry = pwd.getpwnam(cluster.user)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        env.update(HOME=str(cluster.root), USER=cluster.user, LOGNAME=cluster.user)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=cluster.root,
            env=env,
            **as_user,
        )
    return proc.pid


def _chown(cluster: Cluster, path: Path) -> None:
    if cluster.user:
        shutil.chown(path, cluster.user, cluster.user)


def start_etcd(cluster: Cluster) -> None:
    data = cluster.root / "etcd"
    data.mkdir(exist_ok=True)
    data.chmod(0o700)
    _chown(cluster, data)
    client = f"http://{HOST}:{cluster.etcd_port}"
    peer = f"http://{HOST}:{cluster.etcd_peer_port}"
    cluster.etcd_pid = _spawn(
        cluster,
        [
            etcd_binary(),
            "--name=etcd0",
            f"--data-dir={data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=etcd0={peer}",
            f"--initial-cluster-token={SCOPE}-{cluster.etcd_port}",
            "--initial-cluster-state=new",
            "--log-level=warn",
        ],
        cluster.root / "etcd.log",
    )
    _wait(lambda: _http_ok(f"{client}/health"), 30, "etcd did not answer on /health", cluster.root / "etcd.log")


def start_node(cluster: Cluster, node: Node) -> None:
    """Start (or start again) a node's Patroni; it starts and manages its PostgreSQL."""
    folder = cluster.root / node.name
    folder.mkdir(exist_ok=True)
    folder.chmod(0o700)
    _chown(cluster, folder)
    config = node.config_file(cluster.root)
    config.write_text(json.dumps(patroni_config(cluster, node), indent=2))  # JSON is YAML: Patroni reads it
    config.chmod(0o600)
    _chown(cluster, config)
    node.pid = _spawn(cluster, [str(patroni_venv() / "bin" / "patroni"), str(config)], node.log_file(cluster.root))
    cluster.save()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(200 <= r.status < 300)
    except (OSError, urllib.error.HTTPError):
        return False


def _wait(ok: Any, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise ClusterError(f"{what} within {timeout:.0f} s{tail}")
        time.sleep(0.2)


def wait_healthy(cluster: Cluster, timeout: float = 120) -> str:
    """Wait until there is a running leader and every other node streams from it; return the leader's name."""

    def healthy() -> bool:
        members = cluster.members()
        roles = {m["name"]: (m.get("role"), m.get("state")) for m in members}
        if len(roles) != len(cluster.nodes):
            return False
        leaders = [n for n, (role, state) in roles.items() if role == "leader" and state == "running"]
        standbys = [n for n, (role, state) in roles.items() if role != "leader" and state == "streaming"]
        return len(leaders) == 1 and len(standbys) == len(cluster.nodes) - 1

    _wait(healthy, timeout, "the cluster did not become healthy", cluster.nodes[0].log_file(cluster.root))
    leader = cluster.leader()
    assert leader is not None
    return leader


def init_database(cluster: Cluster, say: Any = print) -> None:
    """On the primary: the application database, its migrations, the gateway login's password. It replicates."""
    with psycopg.connect(cluster.owner_url("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
    migrate(cluster.owner_url(), DB_DIR, log=say)
    with psycopg.connect(cluster.owner_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(AUTHENTICATOR), sql.Literal(cluster.passwords["authenticator"])
            )
        )


def up(root: Path, *, standbys: int = 2, say: Any = print) -> Cluster:
    """Start a new cluster in `root` (empty or missing), or start again the one that is there."""
    root = root.expanduser().resolve()
    if (root / STATE_FILE).exists():
        cluster = Cluster.load(root)
        if _ours(cluster.etcd_pid, "etcd") and all(_ours(n.pid, "patroni") for n in cluster.nodes):
            say(f"the cluster in {root} is running")
            return cluster
        say(f"starting the cluster in {root} again")
        _start_all(cluster, say)
        return cluster
    venv = ensure_patroni(say)
    etcd_binary()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    user = embedded.system_user()
    ports = free_ports(2 + 2 * (1 + standbys))
    nodes = [Node(f"pg{i + 1}", ports[2 + 2 * i], ports[3 + 2 * i]) for i in range(1 + standbys)]
    cluster = Cluster(
        root=root,
        etcd_port=ports[0],
        etcd_peer_port=ports[1],
        nodes=nodes,
        passwords={k: secrets.token_urlsafe(24) for k in ("superuser", "replication", "rewind", "authenticator")},
        user=user,
        extra={"patroni": str(venv)},
    )
    if user:
        _chown(cluster, root)
        embedded.ensure_readable_path(root)
    cluster.save()
    _start_all(cluster, say)
    init_database(cluster, say)
    return cluster


def _start_all(cluster: Cluster, say: Any) -> None:
    if not _ours(cluster.etcd_pid, "etcd"):
        start_etcd(cluster)
    say(f"etcd on {HOST}:{cluster.etcd_port}")
    # The first node bootstraps (initdb) alone; the others then clone it (pg_basebackup) in parallel.
    first, *others = cluster.nodes
    if not _ours(first.pid, "patroni"):
        start_node(cluster, first)
    _wait(lambda: cluster.leader() is not None, 120, "no leader was elected", first.log_file(cluster.root))
    for node in others:
        if not _ours(node.pid, "patroni"):
            start_node(cluster, node)
    leader = wait_healthy(cluster)
    cluster.save()
    say(f"primary {leader}; standbys {', '.join(n.name for n in cluster.nodes if n.name != leader)}")


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not reaped yet) is gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _runs(pid: int, program: str) -> bool:
    """Whether process `pid` runs `program` (its command line names it): a pid kept in cluster.json may have been
    reused by another process since, which is not ours to stop."""
    try:
        return program in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _ours(pid: int | None, program: str) -> bool:
    return _alive(pid) and pid is not None and _runs(pid, program)


def stop_pid(pid: int | None, program: str, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    """Stop our daemon `pid` (SIGTERM; SIGKILL after `timeout`) if it still runs `program`, and wait for it."""
    if not _alive(pid):
        return
    assert pid is not None
    if not _runs(pid, program):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def down(root: Path, *, purge: bool = False, say: Any = print) -> None:
    """Stop every Patroni (each stops its PostgreSQL: fast shutdown), then etcd; --purge removes the folder."""
    root = root.expanduser().resolve()
    if not (root / STATE_FILE).exists():
        say(f"no cluster in {root}")
        return
    cluster = Cluster.load(root)
    leader = cluster.leader()
    # The standbys first: a primary stopped before them would be replaced by one of them (a needless failover).
    for node in sorted(cluster.nodes, key=lambda n: n.name == leader):
        stop_pid(node.pid, "patroni")
        # A PostgreSQL whose Patroni was killed (kill -9) outlives it: stop it too.
        embedded.kill_stale(node.data_dir(root))
    stop_pid(cluster.etcd_pid, "etcd")
    say("the cluster is stopped")
    if purge:
        shutil.rmtree(root, ignore_errors=True)
        say(f"removed {root}")


def environment(root: Path) -> str:
    """The three URLs as shell `export` lines (quoted: they hold `&`), for `eval "$(novara cluster env)"`."""
    import shlex

    cluster = Cluster.load(root.expanduser().resolve())
    urls = {
        "DATABASE_URL": cluster.gateway_url(),
        "DATABASE_READ_URL": cluster.read_url(),
        "MIGRATION_DATABASE_URL": cluster.owner_url(),
    }
    return "\n".join(f"export {name}={shlex.quote(url)}" for name, url in urls.items())


def status(root: Path) -> str:
    cluster = Cluster.load(root.expanduser().resolve())
    lines = [f"{'member':<6} {'role':<14} {'state':<10} {'tl':>3} {'lag':>6}  host"]
    for m in cluster.members():
        lag = m.get("lag", "")
        lines.append(
            f"{m['name']:<6} {m.get('role', ''):<14} {m.get('state', ''):<10} {m.get('timeline', ''):>3} "
            f"{lag!s:>6}  {m.get('host')}:{m.get('port')}"
        )
    if len(lines) == 1:
        lines.append("(no node answers: `novara cluster up` starts them)")
    lines += [
        "",
        f"DATABASE_URL={cluster.gateway_url()}",
        f"DATABASE_READ_URL={cluster.read_url()}",
        f"MIGRATION_DATABASE_URL={cluster.owner_url()}",
    ]
    return "\n".join(lines)
