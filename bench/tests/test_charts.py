"""The benchmark's charts (bench/charts.py) from a committed result: three PNGs next to the JSON, linked from the
README section; `--render-only` draws them without measuring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import charts, cli

RESULTS = Path(__file__).resolve().parent.parent / "results"
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not charts.available(), reason="matplotlib (the bench extra) is not installed")


def test_render_only_draws_every_chart_and_links_them(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    source = RESULTS / "2026-11-29-small.json"
    shutil.copy(source, results / source.name)
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n")
    assert cli.main(["--render-only", f"--results={results}", f"--readme={readme}"]) == 0
    drawn = sorted(p.name for p in results.glob("*.png"))
    assert drawn == [f"2026-11-29-small-{c}.png" for c in ("growth", "latency", "throughput")]
    for name in drawn:
        data = (results / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, name
    text = readme.read_text()
    for name in drawn:
        assert f"(results/{name})" in text


def test_a_run_without_growth_gets_two_charts(tmp_path: Path) -> None:
    result = json.loads((RESULTS / "2026-11-29-small.json").read_text())
    result["growth"] = {}
    path = tmp_path / "2026-11-29-small.json"
    assert [p.name for p in charts.draw(result, path)] == [
        "2026-11-29-small-throughput.png",
        "2026-11-29-small-latency.png",
    ]
