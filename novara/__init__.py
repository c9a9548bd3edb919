"""Operator tooling for Novara Schema V2: the `novara` command, the migrations runner, the embedded PostgreSQL,
and the checks (selftest, smoke, metrics views). It depends on the HTTP gateway (`gateway`) only where it must
(settings, the calling convention, token signing); the gateway never imports it.

`DB_DIR` is the SQL the package applies: `db/` beside the package in a source checkout, or the copy shipped
inside the wheel (package data), so an installed package and the image find it without configuration.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _db_dir() -> Path:
    shipped = _HERE / "db"  # an installed wheel: the package data
    return shipped if (shipped / "schema").is_dir() else _HERE.parent / "db"


DB_DIR = _db_dir()
