"""Run the app under uvicorn (uvloop + httptools) and say when it accepts requests."""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import signal
import tempfile
import time
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from . import logs
from .app import create_app
from .metrics import MULTIPROC_ENV
from .settings import Settings

UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "lifespan": "on",
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
    # The client address is the socket's: uvicorn would otherwise take X-Forwarded-For from 127.0.0.1,
    # bypassing AUTH_TRUST_X_FORWARDED_FOR (login rate limits per address, docs/accounts.md).
    "proxy_headers": False,
}


def _listening(host: str, port: int) -> None:
    logs.say(f"Novara API listening on http://{host}:{port}", url=f"http://{host}:{port}")


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    # JSON logs: uvicorn's own records (warnings, errors) go through the root logger's JSON handler too.
    return {**UVICORN_OPTIONS, **({"log_config": None} if settings.log_format == "json" else {})}


@contextlib.contextmanager
def _metrics_dir() -> Any:
    """Several workers share their metrics through files (gateway/metrics.py): in PROMETHEUS_MULTIPROC_DIR when the
    operator set it (emptied first: values of an earlier run would be added to this one's), else in a temporary
    directory removed at exit. Set before the workers start, which read it when they import prometheus-client."""
    given = os.environ.get(MULTIPROC_ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="novara-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)


class _Server(uvicorn.Server):
    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            port = self.config.port
            for server in self.servers:
                for sock in server.sockets:
                    port = sock.getsockname()[1]
            _listening(self.config.host, port)


def serve(settings: Settings, database_url: str, jwt_secret: str, *, host: str, port: int, workers: int = 1) -> None:
    logs.configure(settings.log_format)
    logs.say(f"🔧 Schema V2: {'ENABLED' if settings.use_schema_v2 else 'DISABLED'}")
    if workers <= 1:
        app = create_app(settings, database_url, jwt_secret)
        _Server(uvicorn.Config(app, host=host, port=port, **_uvicorn_options(settings))).run()
        return
    os.environ["DATABASE_URL"] = database_url
    os.environ["JWT_SECRET"] = jwt_secret
    # DB_POOL_MAX bounds the whole gateway's connections: each worker gets its share (at least one).
    os.environ["DB_POOL_MAX"] = str(max(1, settings.db_pool_max // workers))
    with _metrics_dir():
        _serve_workers(settings, host, port, workers)


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    config = uvicorn.Config(
        "gateway.asgi:create", factory=True, host=host, port=port, workers=workers, **_uvicorn_options(settings)
    )
    sock = config.bind_socket()
    sock.listen(config.backlog)  # connections wait in the backlog until a worker accepts them
    _listening(host, sock.getsockname()[1])
    # uvicorn's supervisor took the server's run function as `target` before 0.3x; now it builds the servers.
    try:
        if "target" in inspect.signature(Multiprocess.__init__).parameters:
            Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()  # type: ignore[call-arg]
        else:
            Multiprocess(config, sockets=[sock]).run()
    finally:
        _stop_children()


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").glob("*"):
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def _stop_children(timeout: float = 10.0) -> None:
    """Return only once every process started for the workers has exited. uvicorn's supervisor joins its workers,
    but multiprocessing also started its resource tracker beside them, which exits on its own a moment after its
    parent: a caller that sees `novara serve` return could still find a child running. Stop the tracker and reap
    it; then wait for (and, after `timeout`, kill) anything else still ours."""
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    with contextlib.suppress(Exception):
        getattr(tracker, "_stop", lambda: None)()
    deadline = time.monotonic() + timeout
    while pids := _children():
        for pid in pids:
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
