"""docker-compose.yml and Dockerfile: no Docker engine here, so check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_wheel_ships_the_sql_and_finds_it_without_configuration(tmp_path: Path) -> None:
    """A built wheel holds the two packages and db/'s migrations inside novara (not db/tests); unpacked alone,
    novara.DB_DIR points at that copy, and the migrator discovers exactly the checkout's files."""
    import shutil
    import subprocess
    import sys
    import zipfile

    from novara.migrate import REPEATABLE_DIRS

    src = tmp_path / "src"  # a copy: setuptools writes build/ and *.egg-info into the tree it builds
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    for name in ("gateway", "novara", "db"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gateway/app.py" in names and "novara/cli.py" in names
    shipped = {n for n in names if n.startswith("novara/db/")}
    expected = {
        f"novara/db/{p.relative_to(ROOT / 'db')}"
        for folder in ("schema", *REPEATABLE_DIRS)
        for p in (ROOT / "db" / folder).glob("*.sql")
    }
    assert shipped == expected
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    probe = (
        "import novara, novara.migrate as m; d = novara.DB_DIR; "
        "print(d); print(len(m.discover_versioned(d)) + len(m.discover_repeatable(d)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert out.returncode == 0, out.stderr
    where, count = out.stdout.split()
    assert where == str(tmp_path / "site" / "novara" / "db")
    assert int(count) == len(expected)
