"""The check-ins' read model (daily_checkins) equals what the event log rebuilds, after random histories.

The event log is the source of truth; daily_checkins is the current state both modes read, written by the V2
functions in the same transaction as the events and by V1 mode alone (its writes reach the log through the change log
and core.sync_legacy_checkins: in the V2 write path, in the V2 reads of the log, and when the flag turns on). A
hypothesis state machine interleaves, for two users, creates, partial updates (date moves included), deletes and
retractions in V2 mode, the same in V1 mode, hand edits of a row's columns (psql), V2 reads of the event log, and flag
flips (the import of every pending write, as `novara serve` starts in V2 mode). After every step:

- the read model holds exactly the check-ins a plain model of the history says, with the values last written;
- with the pending V1-mode writes imported (in a transaction rolled back afterwards, so the history goes on with
  them still pending), the log's rebuild — the view daily_checkins_legacy: the live events of each check-in, merged —
  equals the read model in every column it determines (tests.checkins_drift(): owner, date, type, fields, each
  typed column);
- with nothing pending, it equals the read model as it is.
"""

from __future__ import annotations

import json
import uuid
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

DATES = [f"2026-02-0{d}" for d in range(1, 6)]
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "mood_today": texts.filter(lambda s: s.strip() != ""),
    "confidence_today": st.integers(1, 10),
    "anxiety_level": st.one_of(st.none(), st.integers(1, 10)),
    "user_note": st.one_of(st.none(), texts),
    "side_effects": st.one_of(st.none(), st.lists(texts, max_size=2)),
    "medication_taken": st.sampled_from(["yes", "no", "partial", "not tracked"]),
    "missed_doses": st.one_of(st.none(), st.integers(0, 3)),
    "phq4_feeling_down": st.one_of(st.none(), st.integers(0, 3)),
    "phq4_score": st.one_of(st.none(), st.integers(0, 12)),
    "an_extra": st.one_of(st.none(), st.booleans(), st.integers(-5, 5), texts),
}


@st.composite
def answers(draw: st.DrawFn, required: bool) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=4))
    if required:
        keys = sorted({*keys, "mood_today", "confidence_today"})
    return {k: draw(FIELDS[k]) for k in keys}


def call(conn: psycopg.Connection, email: str, function: str, args: dict[str, Any]) -> tuple[str, Any]:
    """api.<function>(args) as the gateway calls it (its role, the user's claims, one transaction): ("ok", body) or
    (SQLSTATE, message)."""
    try:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('role', 'novara_api', true), set_config('request.jwt.claims', %s, true)",
                [json.dumps({"email": email})],
            )
            row = conn.execute(f"SELECT api.{function}(%s::jsonb)", [json.dumps(args)]).fetchone()
        return "ok", row[0] if row else None
    except psycopg.Error as err:
        return err.sqlstate or "", err.diag.message_primary


def test_read_model_equals_the_logs_rebuild_after_random_histories(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as owner:

        class Histories(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                self.users = [f"proj-{uuid.uuid4().hex}@example.com" for _ in range(2)]
                for email in self.users:
                    owner.execute("INSERT INTO public.users (email) VALUES (%s)", [email])
                # the model: user -> check-in id -> {"date", "fields"} (creation order, for reproducible draws)
                self.model: dict[str, dict[str, dict[str, Any]]] = {email: {} for email in self.users}

            @initialize()
            def nothing_yet(self) -> None:
                self.check()

            def taken(self, email: str, date: str, but: str | None = None) -> bool:
                return any(c["date"] == date for i, c in self.model[email].items() if i != but)

            # ------------------------------------------------------------------------------- writes, either mode
            @rule(who=st.integers(0, 1), v1=st.booleans(), date=st.sampled_from(DATES), body=answers(required=True))
            def create(self, who: int, v1: bool, date: str, body: dict[str, Any]) -> None:
                email = self.users[who]
                status, out = call(
                    owner, email, "v1_create_checkin" if v1 else "create_checkin", {**body, "date_submitted": date}
                )
                if self.taken(email, date):
                    assert status == "NV409", (status, out)
                    return
                assert status == "ok", (status, out)
                self.model[email][out["checkin"]["id"]] = {"date": date, "fields": body}

            @precondition(lambda self: any(self.model.values()))
            @rule(data=st.data(), v1=st.booleans(), body=answers(required=False))
            def update(self, data: st.DataObject, v1: bool, body: dict[str, Any]) -> None:
                email = data.draw(st.sampled_from([u for u in self.users if self.model[u]]))
                cid = data.draw(st.sampled_from(list(self.model[email])))
                date = data.draw(st.one_of(st.none(), st.sampled_from(DATES)))
                sent = {"id": cid, **body, **({"date_submitted": date} if date else {})}
                status, out = call(owner, email, "v1_update_checkin" if v1 else "update_checkin", sent)
                if date and self.taken(email, date, but=cid):
                    assert status == "NV409", (status, out)
                    return
                assert status == "ok", (status, out)
                entry = self.model[email][cid]
                entry["fields"] = {**entry["fields"], **body}
                entry["date"] = date or entry["date"]

            @precondition(lambda self: any(self.model.values()))
            @rule(data=st.data(), v1=st.booleans())
            def delete(self, data: st.DataObject, v1: bool) -> None:
                email = data.draw(st.sampled_from([u for u in self.users if self.model[u]]))
                cid = data.draw(st.sampled_from(list(self.model[email])))
                status, out = call(owner, email, "v1_delete_checkin" if v1 else "delete_checkin", {"id": cid})
                assert status == "ok", (status, out)
                del self.model[email][cid]

            @precondition(lambda self: any(self.model.values()))
            @rule(data=st.data(), anxiety=st.integers(1, 10))
            def psql_edit(self, data: st.DataObject, anxiety: int) -> None:
                """A writer that knows only the columns (psql, an older V1 deployment): "fields" is dropped."""
                email = data.draw(st.sampled_from([u for u in self.users if self.model[u]]))
                cid = data.draw(st.sampled_from(list(self.model[email])))
                owner.execute("UPDATE public.daily_checkins SET anxiety_level = %s WHERE id = %s", [anxiety, cid])
                entry = self.model[email][cid]
                # the row's answers are its columns now (core.legacy_fields): a given null is not an answer any more,
                # nor is medication_taken "not tracked", the column's default
                entry["fields"] = {
                    k: v
                    for k, v in {**entry["fields"], "anxiety_level": anxiety}.items()
                    if v is not None and (k, v) != ("medication_taken", "not tracked")
                }

            # ------------------------------------------------------------------------------- imports
            @rule(who=st.integers(0, 1))
            def read_the_log(self, who: int) -> None:
                """A V2 read of the event log imports the caller's pending writes first."""
                status, out = call(owner, self.users[who], "timeline", {"start_date": "2026-01-01"})
                assert status == "ok", (status, out)

            @rule()
            def flip(self) -> None:
                """The flag turns on: every pending write is imported (novara.cli.import_v1_writes)."""
                while owner.execute("SELECT core.sync_legacy_checkins(NULL, 1000)").fetchone()[0]:  # type: ignore[index]
                    pass

            # ------------------------------------------------------------------------------- the invariants
            @invariant()
            def the_read_model_and_the_log(self) -> None:
                self.check()

            def check(self) -> None:
                for email in self.users:
                    rows = owner.execute(
                        "SELECT d.id::text, d.date_submitted::text, core.legacy_fields(d)"
                        " FROM public.daily_checkins AS d JOIN public.users AS u ON u.id = d.user_id"
                        " WHERE u.email = %s",
                        [email],
                    ).fetchall()
                    held = {cid: (date, fields) for cid, date, fields in rows}
                    assert set(held) == set(self.model[email]), "lost or resurrected check-ins"
                    for cid, expected in self.model[email].items():
                        date, fields = held[cid]
                        assert date == expected["date"]
                        given = {k: v for k, v in expected["fields"].items() if v is not None or k in fields}
                        assert {k: fields.get(k) for k in given} == given, (cid, fields, expected)
                pending = owner.execute("SELECT count(*) FROM public.legacy_checkin_changes").fetchone()
                if pending == (0,):
                    assert owner.execute("SELECT tests.checkins_drift()").fetchone() == (None,)
                with owner.transaction(force_rollback=True):
                    owner.execute("SELECT core.sync_legacy_checkins(NULL, 100000)")
                    drift = owner.execute("SELECT tests.checkins_drift()").fetchone()
                    assert drift == (None,), f"the log, with the pending writes imported, differs: {drift}"

            def teardown(self) -> None:
                self.flip()
                self.check()
                for email in self.users:  # the next history starts from an empty database again
                    owner.execute("SELECT core.erase_user(u.id) FROM public.users AS u WHERE u.email = %s", [email])

        run_state_machine_as_test(
            Histories,
            settings=settings(
                max_examples=100,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            ),
        )
