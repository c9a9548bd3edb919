"""docs/api.md is what the code and the database say now: regenerated from a migrated database it is identical,
so a changed route, COMMENT or registry row without `make api-docs` fails here."""

from __future__ import annotations

from pathlib import Path

from novara.apidocs import load_catalog, markdown
from tests.conftest import novara, novara_env

ROOT = Path(__file__).resolve().parents[2]


def test_docs_api_md_is_generated_from_the_database(db_url: str) -> None:
    expected = markdown(load_catalog(db_url))
    assert (ROOT / "docs" / "api.md").read_text() == expected, "docs/api.md is stale: run `make api-docs`"
    for route in ("### POST /api/checkins", "### GET /api/v2/analytics", "`event_data` of `medication`:"):
        assert route in expected


def test_api_docs_check_fails_on_a_stale_file(db_url: str, tmp_path: Path) -> None:
    stale = tmp_path / "api.md"
    stale.write_text("# old\n")
    r = novara("api-docs", "--check", "--output", str(stale), env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 1 and "run `novara api-docs`" in r.stderr
    r = novara("api-docs", "--output", str(stale), env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 0, r.stderr
    r = novara("api-docs", "--check", "--output", str(stale), env=novara_env(DATABASE_URL=db_url))
    assert r.returncode == 0 and "is up to date" in r.stdout
