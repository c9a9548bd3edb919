"""Helpers for the Python tests: run the `novara` command and the real app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import load
from tests._report import pytest_terminal_summary, report

__all__ = ["pytest_terminal_summary", "report"]  # the reliability summary's fixture and hook, for every test

SECRET = "test-secret-" + "x" * 40


def novara_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "JWT_SECRET", "USE_SCHEMA_V2"}}
    env.update(extra)
    return env


def novara(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "novara.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
    )


@pytest.fixture
def client(gateway_url: str) -> Iterator[TestClient]:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET})
    with TestClient(create_app(settings, gateway_url, SECRET)) as c:
        yield c
