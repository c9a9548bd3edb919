#!/usr/bin/env python3
"""Lint NEW versioned migrations with squawk: `python .ci/squawk.py [db_dir]` (make lint runs it).

Selects db/schema/NNNN_*.sql with NNNN >= FIRST_LINTED. 0001-0012 predate this rule and are
grandfathered: they are applied everywhere and versioned files are immutable, so their findings could
only be fixed by new migrations. Files run in a transaction by the migrator are linted with
--assume-in-transaction; `-- migrate: no-transaction` files without it. Rules and their exclusions
(each with its reason) are in .squawk.toml. Exit status: squawk's (non-zero on any finding).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from novara.migrate import discover_versioned  # noqa: E402

FIRST_LINTED = 13


def targets(db_dir: Path) -> tuple[list[Path], list[Path]]:
    """(files run in a transaction, `-- migrate: no-transaction` files), NNNN >= FIRST_LINTED."""
    new = [m for m in discover_versioned(db_dir) if int(m.name[:4]) >= FIRST_LINTED]
    return [m.path for m in new if m.transactional], [m.path for m in new if not m.transactional]


def squawk_binary() -> str:
    beside = Path(sys.executable).parent / "squawk"  # the venv's squawk-cli (pyproject dev extras)
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if not found:
        sys.exit("squawk not found: install the dev extras (pip install -e '.[dev]')")
    return found


def main(argv: list[str]) -> int:
    db_dir = Path(argv[1]).resolve() if len(argv) > 1 else ROOT / "db"
    in_tx, no_tx = targets(db_dir)
    if not in_tx and not no_tx:
        print(f"squawk: no versioned migration >= {FIRST_LINTED:04d} in {db_dir / 'schema'}")
        return 0
    base = [squawk_binary(), "--config", str(ROOT / ".squawk.toml"), "--reporter", "gcc"]
    rc = 0
    for files, flag in ((in_tx, "--assume-in-transaction"), (no_tx, "--no-assume-in-transaction")):
        if files:
            rc |= subprocess.run([*base, flag, *map(str, files)], check=False).returncode
    if rc == 0:
        print(f"squawk: {len(in_tx) + len(no_tx)} new migration(s) clean")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
