"""Helpers shared by the HTTP route tests: accounts, headers, error checks and a small JSON shape checker.

A shape (spec) is one of:
  a dict         the value is an object holding at least these keys, each checked against its spec
  [spec]         the value is a list whose every item matches spec
  a type/tuple   the JSON type, strictly (bool is not int, int is not float); None stands for null
  a function     a predicate (UUID, ISO, DATE, ...)
  anything else  the value must equal it
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")


def UUID(v: Any) -> bool:
    return isinstance(v, str) and bool(_UUID.match(v))


def ISO(v: Any) -> bool:
    """An instant as the contract writes it: 2026-11-29T18:04:05.123+00:00."""
    if not (isinstance(v, str) and _ISO.match(v)):
        return False
    try:
        dt.datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def DATE(v: Any) -> bool:
    """A real calendar date YYYY-MM-DD."""
    if not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def NUMBER(v: Any) -> bool:
    return type(v) in (int, float)


def opt(spec: Any) -> Callable[[Any], bool]:
    """spec or null."""
    return lambda v: v is None or not mismatches(v, spec)


def _type_ok(value: Any, types: tuple[Any, ...]) -> bool:
    wanted = {type(None) if t is None else t for t in types}
    return type(value) in wanted


def mismatches(value: Any, spec: Any, path: str = "$") -> list[str]:
    """Where `value` departs from `spec` (empty when it conforms)."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r:.80}"]
        out: list[str] = []
        for key, sub in spec.items():
            if key not in value:
                out.append(f"{path}.{key}: missing")
            else:
                out += mismatches(value[key], sub, f"{path}.{key}")
        return out
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r:.80}"]
        return [m for i, item in enumerate(value) for m in mismatches(item, spec[0], f"{path}[{i}]")]
    if spec is None or isinstance(spec, type) or (isinstance(spec, tuple) and spec):
        types = spec if isinstance(spec, tuple) else (spec,)
        return [] if _type_ok(value, types) else [f"{path}: expected {types}, got {value!r:.80}"]
    if callable(spec):
        return [] if spec(value) else [f"{path}: {getattr(spec, '__name__', 'predicate')} refused {value!r:.80}"]
    return [] if value == spec and type(value) is type(spec) else [f"{path}: expected {spec!r}, got {value!r:.80}"]


def assert_shape(value: Any, spec: Any) -> None:
    problems = mismatches(value, spec)
    assert not problems, "\n".join(problems)


def same(a: Any, b: Any) -> bool:
    """Equal value and equal JSON type, recursively (1 is not 1.0 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ------------------------------------------------------------------------------------------ contract shapes

STR_OR_NULL = (str, None)
USER = {
    "id": UUID,
    "email": str,
    "nickname": STR_OR_NULL,
    "timezone": str,
    "email_opt_in": bool,
    "status": str,
    "confidence_meds": int,
    "confidence_costs": int,
    "confidence_overall": int,
    "primary_need": STR_OR_NULL,
    "cycle_stage": STR_OR_NULL,
    "top_concern": STR_OR_NULL,
    "medication_status": STR_OR_NULL,
    "onboarding_path": STR_OR_NULL,
    "baseline_completed": bool,
    "created_at": ISO,
}
ROW = {
    "id": UUID,
    "user_id": UUID,
    "date_submitted": DATE,
    "created_at": ISO,
    "updated_at": ISO,
    "medication_taken": str,
}
ITEM = {**ROW, "fields": ROW}  # a single check-in (GET /api/checkins/{id}, POST, PUT, today): both spellings
RECORD = {"id": UUID, "fields": ROW}  # an item of GET /api/checkins' records; its checkins items are ROW, flat
EVENT = {
    "id": UUID,
    "user_id": UUID,
    "event_type": str,
    "event_subtype": STR_OR_NULL,
    "event_data": dict,
    "occurred_at": ISO,
    "local_date": DATE,
    "recorded_at": ISO,
    "source": str,
    "correlation_id": opt(UUID),
    "related_event_id": opt(UUID),
}


def assert_item(item: dict[str, Any]) -> None:
    """A single check-in: the row flat and, identical, under "fields"."""
    assert_shape(item, ITEM)
    flat = {k: v for k, v in item.items() if k != "fields"}
    assert same(flat, item["fields"]), "the flat row and fields differ"


def assert_listing(body: dict[str, Any]) -> list[dict[str, Any]]:
    """GET /api/checkins: the same check-ins in both lists, each value once per item — a records item is
    {id, fields: row}, a checkins item the row itself. Returns the rows."""
    assert_shape(body, {"success": True, "records": [RECORD], "checkins": [ROW], "count": int})
    rows: list[dict[str, Any]] = body["checkins"]
    assert body["count"] == len(rows)
    assert not any("fields" in row for row in rows), "a checkins item carries the row twice"
    assert same(body["records"], [{"id": row["id"], "fields": row} for row in rows]), "records and checkins differ"
    return rows


# ------------------------------------------------------------------------------------------------ requests


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def signup(client: TestClient, email: str | None = None, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A new account: (token, user)."""
    r = client.post("/api/auth/signup", json={"email": email or new_email(), **fields})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["token"], body["user"]


def assert_error(r: Any, status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    """An error response of the contract: status, {success:false, error, code} (+ the exact message/code)."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert body["success"] is False, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["code"], str) and body["code"], body
    if message is not None:
        assert body["error"] == message, body
    if code is not None:
        assert body["code"] == code, body
    return body


def metric_sample(text: str, name: str, **labels: str) -> float | None:
    """The value of sample `name` with these labels in a /metrics answer (prometheus-client's own parser), or None."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None
