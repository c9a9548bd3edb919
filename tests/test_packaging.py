"""docker-compose.yml and Dockerfile: no Docker engine here, so check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_db_migrate_gateway() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "gateway"}
    db = services["db"]
    assert db["image"].startswith("postgres:17")
    assert "shared_preload_libraries=pg_stat_statements" in db["command"]
    assert "healthcheck" in db
    assert services["migrate"]["command"] == ["novara", "migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    gateway = services["gateway"]
    assert gateway["command"] == ["novara", "serve"]
    assert gateway["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for var in ("DATABASE_URL", "JWT_SECRET", "USE_SCHEMA_V2"):
        assert var in gateway["environment"]


def test_dockerfile_runs_the_documented_commands() -> None:
    text = (ROOT / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    cmd = re.search(r'^CMD \["novara", "(\w+)"\]', text, re.MULTILINE)
    assert cmd and cmd.group(1) == "serve"
    assert "`novara serve" in readme and "`novara migrate" in readme
    for src in re.findall(r"^COPY (.+) \./?\S*$", text, re.MULTILINE):
        for part in src.split():
            assert (ROOT / part).exists(), f"Dockerfile copies {part}, which does not exist"
