"""USE_SCHEMA_V2 flips any number of times without losing or duplicating a check-in.

A hypothesis state machine runs two gateway instances against one database, each in V1 or V2 mode, and
interleaves creates, updates and deletes through either instance with restarts (a new app with the flag
flipped, or kept) — a rolling restart in both directions, as often as hypothesis likes. After every step,
GET /api/checkins through every running instance must return each live check-in ever written exactly once,
with the values last written (a model keeps them), and both instances must answer identically. Every start
in V2 mode imports the V1-mode writes still pending, as `novara serve` does (novara.cli.import_v1_writes):
the event log then rebuilds exactly the read model both modes list from (tests.checkins_drift()).
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from gateway import auth
from gateway.app import create_app
from gateway.settings import load
from novara.cli import import_v1_writes
from tests.conftest import SECRET

DATES = [f"2026-01-0{d}" for d in range(1, 7)]
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "mood_today": texts.filter(lambda s: s.strip() != ""),
    "confidence_today": st.integers(1, 10),
    "anxiety_level": st.one_of(st.none(), st.integers(1, 10)),
    "user_note": st.one_of(st.none(), texts),
    "side_effects": st.one_of(st.none(), st.lists(texts, max_size=3)),
    "medication_taken": st.sampled_from(["yes", "no", "partial", "not tracked"]),
    "phq4_feeling_down": st.one_of(st.none(), st.integers(0, 3)),
    "an_extra": st.one_of(st.none(), st.booleans(), st.integers(-5, 5), texts, st.lists(st.integers(), max_size=2)),
}


@st.composite
def answers(draw: st.DrawFn, required: bool) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=5))
    if required:
        keys = sorted({*keys, "mood_today", "confidence_today"})
    return {k: draw(FIELDS[k]) for k in keys}


def same(a: Any, b: Any) -> bool:
    """Equal value and equal JSON type, recursively (1 is not 1.0 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_flag_flips_lose_and_duplicate_nothing(db_url: str, gateway_url: str) -> None:
    class FlagFlips(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.email = f"flip-{uuid.uuid4().hex}@example.com"
            with psycopg.connect(db_url, autocommit=True) as conn:
                conn.execute("INSERT INTO public.users (email) VALUES (%s)", [self.email])
            self.headers = {"Authorization": f"Bearer {auth.sign(SECRET, {'email': self.email})}"}
            self.model: dict[str, dict[str, Any]] = {}  # id -> {"date": ..., "fields": {...}}
            self.instances: list[tuple[bool, TestClient, ExitStack]] = []

        # -------------------------------------------------------------------------------- instances
        def start(self, v2: bool) -> tuple[bool, TestClient, ExitStack]:
            env = {"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "true" if v2 else "false"}
            if v2:  # as `novara serve` starts in V2 mode: the pending V1-mode writes go into the event log
                import_v1_writes(db_url, say=lambda _line: None)
                with psycopg.connect(db_url, autocommit=True) as conn:
                    drift = conn.execute("SELECT tests.checkins_drift()").fetchone()
                assert drift == (None,), f"the event log does not rebuild the read model: {drift}"
            stack = ExitStack()
            client = stack.enter_context(TestClient(create_app(load(env), gateway_url, SECRET)))
            return v2, client, stack

        @initialize(first=st.booleans(), second=st.booleans())
        def boot(self, first: bool, second: bool) -> None:
            self.instances = [self.start(first), self.start(second)]

        @rule(slot=st.integers(0, 1), v2=st.booleans())
        def restart(self, slot: int, v2: bool) -> None:
            self.instances[slot][2].close()
            self.instances[slot] = self.start(v2)

        def teardown(self) -> None:
            for _, _, stack in self.instances:
                stack.close()

        def client(self, slot: int) -> TestClient:
            return self.instances[slot][1]

        def taken(self, date: str, but: str | None = None) -> bool:
            return any(c["date"] == date for i, c in self.model.items() if i != but)

        # -------------------------------------------------------------------------------- writes
        @rule(slot=st.integers(0, 1), date=st.sampled_from(DATES), body=answers(required=True), enhanced=st.booleans())
        def create(self, slot: int, date: str, body: dict[str, Any], enhanced: bool) -> None:
            path = "/api/daily-checkin-enhanced" if enhanced else "/api/checkins"
            r = self.client(slot).post(path, headers=self.headers, json={**body, "date_submitted": date})
            if self.taken(date):
                assert r.status_code == 409, r.text
                assert r.json()["existing_checkin"]["date_submitted"] == date
                return
            assert r.status_code == 201, r.text
            item = r.json()["checkin"]
            assert item["checkin_type"] == ("enhanced" if enhanced else "standard")
            self.model[item["id"]] = {"date": date, "fields": body}

        @precondition(lambda self: self.model)
        @rule(slot=st.integers(0, 1), data=st.data(), body=answers(required=False))
        def update(self, slot: int, data: st.DataObject, body: dict[str, Any]) -> None:
            cid = data.draw(st.sampled_from(list(self.model)))  # creation order: the same draw, the same check-in
            date = data.draw(st.one_of(st.none(), st.sampled_from(DATES)))
            sent = {**body, **({"date_submitted": date} if date else {})}
            r = self.client(slot).put(f"/api/checkins/{cid}", headers=self.headers, json=sent)
            if date and self.taken(date, but=cid):
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 200, r.text
            entry = self.model[cid]
            entry["fields"] = {**entry["fields"], **body}
            if date:
                entry["date"] = date
            assert r.json()["checkin"]["date_submitted"] == entry["date"]

        @precondition(lambda self: self.model)
        @rule(slot=st.integers(0, 1), data=st.data())
        def delete(self, slot: int, data: st.DataObject) -> None:
            cid = data.draw(st.sampled_from(list(self.model)))  # creation order: the same draw, the same check-in
            r = self.client(slot).delete(f"/api/checkins/{cid}", headers=self.headers)
            assert r.status_code == 200, r.text
            del self.model[cid]
            r = self.client(1 - slot).delete(f"/api/checkins/{cid}", headers=self.headers)
            assert r.status_code == 404, r.text

        # -------------------------------------------------------------------------------- the invariant
        @invariant()
        def every_checkin_once_with_its_last_values(self) -> None:
            if not self.instances:
                return
            seen = []
            for v2, client, _ in self.instances:
                r = client.get("/api/checkins?limit=100", headers=self.headers)
                assert r.status_code == 200, r.text
                items, records = r.json()["checkins"], r.json()["records"]
                ids = [i["id"] for i in items]
                mode = "V2" if v2 else "V1"
                assert len(ids) == len(set(ids)), f"{mode}: a check-in listed twice"
                assert set(ids) == set(self.model), f"{mode}: lost or resurrected check-ins"
                assert records == [{"id": i["id"], "fields": i} for i in items], f"{mode}: records = checkins"
                for item in items:
                    expected = self.model[item["id"]]
                    assert item["date_submitted"] == expected["date"], mode
                    for key, value in expected["fields"].items():
                        assert same(item[key], value), (mode, key, value, item[key])
                seen.append(items)
            assert all(s == seen[0] for s in seen), "both instances answer the same"

    run_state_machine_as_test(
        FlagFlips,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
