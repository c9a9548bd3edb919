"""Every operation of /openapi.json fuzzed by schemathesis against the real app on a real database.

The app runs in-process (ASGI) with USE_SCHEMA_V2=true on a fresh database. For each operation, schemathesis
generates cases from the document (request bodies come from gateway.openapi.request_bodies, built from the
database's registries): positive ones (valid by the schema: they reach the functions' own validation and writes) and
negative ones (wrong types, missing fields, malformed ids and parameters), sent with a valid token of an existing
user with a complete profile, plus a few without a token and with a forged one. Then, with real check-in ids (the
document's links: POST /api/checkins → GET/PUT/DELETE /api/checkins/{id}), the by-id operations again with those
ids, so updates and deletes act on real rows.

Every response is checked:
- never a 5xx (with the flag on, not even a 503);
- every 4xx is the contract's error body {success:false, error:<string>, code:<string>, ...}, as JSON;
- status code, content type and body conform to what the document declares (schemathesis' own checks).

Fast size: ~6 cases per operation and mode (a few hundred requests); full size: 60 (thousands). Generation is
derandomized at fast size (a stable `make test`) and random at full size (new inputs every run).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway import auth
from gateway.app import create_app
from gateway.settings import load
from tests._report import FULL, Report, scale
from tests.conftest import SECRET

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PROFILE = {
    "nickname": "Fuzz",
    "confidence_meds": 6,
    "confidence_costs": 4,
    "confidence_overall": 7,
    "primary_need": "emotional_support",
    "cycle_stage": "stimulation",
    "timezone": "Europe/Paris",
}


class Run:
    """The app, an in-process client, a user's token, and the tally of what was sent and what broke."""

    def __init__(self, schema: Any, session: Any, token: str):
        self.schema = schema
        self.session = session
        self.token = token
        self.requests = 0
        self.failures: list[str] = []
        self.statuses: dict[int, int] = {}
        self.by_operation: dict[tuple[str, int], int] = {}

    def send(self, case: Any, authorization: str | None) -> Any:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        if authorization is not None:
            headers["Authorization"] = authorization
        case.headers = headers
        response = case.call(session=self.session)
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        key = (case.operation.label, response.status_code)
        self.by_operation[key] = self.by_operation.get(key, 0) + 1
        problems = contract_problems(response)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as err:  # a FailureGroup (a BaseExceptionGroup) or one Failure
            problems.append(f"schemathesis: {str(err).strip()[:600]}")
        if problems:
            self.failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:300]}\n"
                f"  {'; '.join(problems)}\n  repro: {case.as_curl_command()[:600]}"
            )
        return response


def contract_problems(response: Any) -> list[str]:
    """What departs from the conventions (docs/api.md) in this response: a 5xx, or a 4xx without the error body."""
    status = response.status_code
    if status >= 500:
        return [f"server error {status}"]
    if status < 400:
        return []
    ctype = (response.headers.get("content-type") or [""])[0]  # schemathesis: header -> list of values
    if not ctype.startswith("application/json"):
        return [f"4xx with content-type {ctype!r}"]
    try:
        body = json.loads(response.text)
    except ValueError:
        return ["4xx body is not JSON"]
    if body == {"success": False, "error": "Endpoint not found", "path": body.get("path")} and status == 404:
        return []  # the unknown-route body is given literally (no code): a path param held a '/'
    ok = (
        isinstance(body, dict)
        and body.get("success") is False
        and isinstance(body.get("error"), str)
        and body["error"]
        and isinstance(body.get("code"), str)
        and body["code"]
    )
    return [] if ok else [f"4xx body is not the contract's error: {str(body)[:200]}"]


def drive(strategy: Any, examples: int, on_case: Callable[[Any], None]) -> bool:
    """Run `on_case` on `examples` cases drawn from `strategy` (generation only: failures are collected, not
    raised, so nothing is shrunk and every operation gets its share). False when there is nothing to
    generate (negative cases of an operation without parameters or body)."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not FULL,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Any) -> None:
        on_case(case)

    try:
        run()
    except Unsatisfiable:
        return False
    return True


@pytest.fixture
def fuzz(gateway_url: str) -> Iterator[Run]:
    settings_ = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "true"})
    app = create_app(settings_, gateway_url, SECRET)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        with asgi.get_client(app) as session:
            r = session.post("/api/auth/signup", json={"email": "fuzz@example.com", **PROFILE})
            assert r.status_code == 201, r.text
            yield Run(schema, session, r.json()["token"])
    finally:
        asgi.shutdown_lifespans()  # closes the app's pool, so the test database can be dropped


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_fuzzed(fuzz: Run, report: Report) -> None:
    per_mode = int(scale(6, 60))
    ops = operations(fuzz.schema)
    assert len(ops) >= 30, [op.label for op in ops]
    bearer = f"Bearer {fuzz.token}"
    forged = "Bearer " + auth.sign("not-the-secret-" + "y" * 40, {"email": "fuzz@example.com"})
    no_negative = []
    for op in ops:
        assert drive(op.as_strategy(), per_mode, lambda case: fuzz.send(case, bearer)), op.label
        if not drive(op.as_strategy(generation_mode=GenerationMode.NEGATIVE), per_mode, lambda c: fuzz.send(c, bearer)):
            no_negative.append(op.label)
        # without a token and with a forged one: 401/403 on every route that needs one, never a 5xx
        for authorization in (None, forged):
            drive(op.as_strategy(), max(1, per_mode // 3), lambda case, a=authorization: fuzz.send(case, a))

    # Links: real check-in ids into GET/PUT/DELETE /api/checkins/{id}.
    by_id = [op for op in ops if op.path == "/api/checkins/{id}"]
    assert {op.method.upper() for op in by_id} == {"GET", "PUT", "DELETE"}
    ids = []
    for day in range(1, 4):
        r = fuzz.session.post(
            "/api/checkins",
            json={"mood_today": "hopeful", "confidence_today": 6, "date_submitted": f"2026-01-0{day}"},
            headers={"Authorization": bearer},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["checkin"]["id"])
    for op in sorted(by_id, key=lambda o: o.method.upper() == "DELETE"):  # deletes last
        for checkin_id in ids:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = op.as_strategy(generation_mode=mode, path_parameters={"id": checkin_id})
                drive(strategy, max(2, per_mode // 2), lambda case: fuzz.send(case, bearer))

    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(fuzz.statuses.items()))
    report(
        requests=fuzz.requests,
        failures=len(fuzz.failures),
        note=f"{len(ops)} operations ({len(no_negative)} without negative cases); statuses {statuses}",
    )
    assert not fuzz.failures, f"{len(fuzz.failures)} failures, first ones:\n" + "\n".join(fuzz.failures[:8])
    assert fuzz.statuses.get(200, 0) + fuzz.statuses.get(201, 0) > len(ops), "positive cases reached the functions"
    assert not any(status >= 500 for status in fuzz.statuses)
