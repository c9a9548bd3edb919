"""The rollups kept by the writes (user_day_rollups, migration 0050) equal a from-scratch recomputation of the log.

A hypothesis state machine writes, for two users in timezones with daylight-saving changes (their events placed
around the transition instants, so a local day has 23 or 25 hours and UTC dates differ from local ones), random V2
events, corrections (some moving an event to another day), retractions, check-ins in V2 mode (created, updated with
date moves, deleted), the same in V1 mode (daily_checkins only, imported into the log by the V2 reads and by a flag
flip), timezone changes, and bursts of concurrent sessions writing, correcting and retracting on the same days.
After every step, whatever is still pending from V1 mode:

- every row of the table equals core.user_day_rollup of its day (the rollup's definition applied to the day's live
  events), and every user-day with live events has its row;
- the daily metrics read from the rollups (user_daily_metrics_live, what the API reads) equal an independent
  recomputation written here: the aggregation of the live events that the view performed before the rollups
  existed, plus the events per type and the latest medication answer.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

# Daylight-saving transitions of 2026 (UTC instants) in the zones the users live in.
ZONES = ["America/Los_Angeles", "Europe/London", "Australia/Sydney"]
TRANSITIONS = [
    datetime(2026, 3, 8, 10, tzinfo=UTC),  # Los Angeles, spring forward
    datetime(2026, 11, 1, 9, tzinfo=UTC),  # Los Angeles, fall back
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London, spring forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # London, fall back
    datetime(2026, 4, 4, 16, tzinfo=UTC),  # Sydney, fall back
    datetime(2026, 10, 3, 16, tzinfo=UTC),  # Sydney, spring forward
]
CHECKIN_DATES = ["2026-03-07", "2026-03-08", "2026-03-29", "2026-04-05", "2026-10-04", "2026-11-01"]

instants = st.builds(
    lambda t, minutes: (t + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
    st.sampled_from(TRANSITIONS),
    st.integers(-26 * 60, 26 * 60).map(lambda m: m - m % 30),
)
moods = st.sampled_from(["hopeful", "anxious, tired", "great", "sad", "okay", "unknown word", "Calm ,  happy"])
EVENT_DATA: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "mood": st.fixed_dictionaries(
        {"mood": moods},
        optional={"confidence": st.integers(1, 10), "anxiety": st.integers(1, 10)},
    ),
    "medication": st.fixed_dictionaries(
        {"status": st.sampled_from(["taken", "missed", "skipped", "partial", "not_applicable", "not_tracked"])}
    ),
    "symptom": st.fixed_dictionaries({"symptoms": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)}),
    "note": st.fixed_dictionaries({"text": st.sampled_from(["x", "long day"])}),
    "sleep": st.fixed_dictionaries({"hours": st.sampled_from([6, 7.5, 9])}),
}
events = st.sampled_from(sorted(EVENT_DATA)).flatmap(lambda t: st.tuples(st.just(t), EVENT_DATA[t]))
checkin_bodies = st.fixed_dictionaries(
    {"mood_today": moods, "confidence_today": st.integers(1, 10)},
    optional={
        "anxiety_level": st.integers(1, 10),
        "medication_taken": st.sampled_from(["yes", "no", "partial", "not tracked"]),
        "side_effects": st.lists(st.sampled_from(["bloating", "headache"]), max_size=2),
        "missed_doses": st.integers(0, 2),
    },
)
subtypes = st.sampled_from([None, "daily_checkin"])
picks = st.integers(0, 10**6)  # an index into whatever is there (drawn the same way whatever the state)
payloads = st.fixed_dictionaries(EVENT_DATA)  # new data for a correction, whatever the type of its event
burst_ops = st.tuples(st.sampled_from(["record", "correct", "retract"]), picks, events, payloads)

# The daily metrics as user_daily_metrics_live computed them from the log before the rollups existed (the view's
# former text, kept here as the independent oracle), with the events per type and the latest medication answer.
ORACLE = """
    SELECT
        e.user_id,
        e.local_date AS date,
        (array_agg(e.event_data ->> 'mood' ORDER BY e.occurred_at DESC, e.position DESC)
            FILTER (WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'mood') = 'string'))[1] AS latest_mood,
        core.mood_score((array_agg(e.event_data ->> 'mood' ORDER BY e.occurred_at DESC, e.position DESC)
            FILTER (WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'mood') = 'string'))[1])
            AS mood_score,
        round(avg((e.event_data ->> 'confidence')::numeric) FILTER (
            WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'confidence') = 'number'), 2)
            AS avg_confidence,
        round(avg((e.event_data ->> 'anxiety')::numeric) FILTER (
            WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'anxiety') = 'number'), 2) AS avg_anxiety,
        count(*) FILTER (WHERE e.event_type = 'mood' AND e.event_subtype = 'daily_checkin') > 0 AS checkin_completed,
        count(*) FILTER (WHERE e.event_type = 'mood') AS mood_entries,
        count(*) FILTER (WHERE e.event_type = 'medication') AS medication_entries,
        count(*) FILTER (WHERE e.event_type = 'medication' AND e.event_data ->> 'status' = 'taken')
            AS medications_taken,
        count(*) FILTER (WHERE e.event_type = 'medication' AND e.event_data ->> 'status' IN ('missed', 'skipped'))
            AS medications_missed,
        count(*) FILTER (WHERE e.event_type = 'medication' AND e.event_data ->> 'status' = 'partial')
            AS medications_partial,
        count(*) FILTER (WHERE e.event_type = 'symptom') AS symptom_entries,
        coalesce(sum(jsonb_array_length(e.event_data -> 'symptoms')) FILTER (
            WHERE e.event_type = 'symptom' AND jsonb_typeof(e.event_data -> 'symptoms') = 'array'), 0)
            AS symptoms_reported,
        count(*) AS event_count,
        (SELECT jsonb_object_agg(t.event_type, t.n) FROM (
            SELECT x.event_type, count(*) AS n FROM public.health_events_live AS x
            WHERE x.user_id = e.user_id AND x.local_date = e.local_date GROUP BY x.event_type) AS t) AS event_counts,
        (array_agg(coalesce(e.event_data -> 'fields' ->> 'medication_taken', e.event_data ->> 'status')
            ORDER BY e.occurred_at DESC, e.position DESC) FILTER (WHERE e.event_type = 'medication'))[1]
            AS latest_medication
    FROM public.health_events_live AS e
    GROUP BY e.user_id, e.local_date
"""
FROM_ROLLUPS = """
    SELECT m.*, r.event_counts, r.latest_medication
    FROM public.user_daily_metrics_live AS m
    JOIN public.user_day_rollups AS r ON r.user_id = m.user_id AND r.date = m.date
"""


def call(conn: psycopg.Connection, email: str, function: str, args: dict[str, Any]) -> tuple[str, Any]:
    """api.<function>(args) as the gateway calls it: ("ok", body) or (SQLSTATE, message)."""
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


def differences(conn: psycopg.Connection) -> list[str]:
    """What differs between the rollups and the recomputations (empty when they are equal)."""
    out: list[str] = []
    rows = conn.execute(
        """
        SELECT 'row differs from its day recomputed: ' || r.user_id || ' ' || r.date || ' '
            || to_jsonb(r)::text || ' vs ' || to_jsonb(c)::text
        FROM public.user_day_rollups AS r
        CROSS JOIN LATERAL core.user_day_rollup(r.user_id, r.date) AS c
        WHERE (r.*)::text IS DISTINCT FROM (c.*)::text
        UNION ALL
        SELECT 'day with live events and no row: ' || e.user_id || ' ' || e.local_date
        FROM (SELECT DISTINCT user_id, local_date FROM public.health_events_live) AS e
        WHERE NOT EXISTS (
            SELECT 1 FROM public.user_day_rollups AS r WHERE r.user_id = e.user_id AND r.date = e.local_date
        )
        """
    ).fetchall()
    out += [r[0] for r in rows]
    for label, left, right in (("rollups, not log", FROM_ROLLUPS, ORACLE), ("log, not rollups", ORACLE, FROM_ROLLUPS)):
        rows = conn.execute(f"SELECT to_jsonb(d)::text FROM (({left}) EXCEPT ({right})) AS d").fetchall()
        out += [f"{label}: {r[0]}" for r in rows]
    return out


def test_rollups_equal_the_log_recomputed_after_random_histories(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as owner:
        sessions = [psycopg.connect(db_url, autocommit=True) for _ in range(3)]
        try:
            run_histories(owner, sessions)
        finally:
            for s in sessions:
                s.close()


def run_histories(owner: psycopg.Connection, sessions: list[psycopg.Connection]) -> None:
    class Histories(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.users = [f"roll-{uuid.uuid4().hex}@example.com" for _ in range(2)]
            for i, email in enumerate(self.users):
                uid = owner.execute("INSERT INTO public.users (email) VALUES (%s) RETURNING id", [email]).fetchone()
                owner.execute(
                    "INSERT INTO public.user_profiles (user_id, timezone) VALUES (%s, %s)",
                    [uid[0] if uid else None, ZONES[i]],
                )
            self.checkins: dict[str, list[str]] = {email: [] for email in self.users}

        @initialize()
        def nothing_yet(self) -> None:
            self.check()

        def live_events(self, email: str) -> list[str]:
            rows = owner.execute(
                "SELECT e.id::text FROM public.health_events_live AS e JOIN public.users AS u ON u.id = e.user_id"
                " WHERE u.email = %s ORDER BY e.position",
                [email],
            ).fetchall()
            return [r[0] for r in rows]

        def kind(self, event_id: str) -> str:
            row = owner.execute("SELECT event_type FROM public.health_events WHERE id = %s", [event_id]).fetchone()
            return row[0] if row else ""

        def checkin_ids(self, email: str) -> list[str]:
            rows = owner.execute(
                "SELECT d.id::text FROM public.daily_checkins AS d JOIN public.users AS u ON u.id = d.user_id"
                " WHERE u.email = %s ORDER BY d.date_submitted, d.id",
                [email],
            ).fetchall()
            return [r[0] for r in rows]

        # ----------------------------------------------------------------------------------- V2 events
        @rule(who=st.integers(0, 1), event=events, at=instants, subtype=subtypes)
        def record(self, who: int, event: tuple[str, dict[str, Any]], at: str, subtype: str | None) -> None:
            kind, data = event
            args = {"event_type": kind, "event_data": data, "occurred_at": at}
            if subtype:
                args["event_subtype"] = subtype
            status, out = call(owner, self.users[who], "create_event", args)
            assert status == "ok", (status, out)

        @rule(who=st.integers(0, 1), pick=picks, payloads=payloads, move=st.one_of(st.none(), instants))
        def correct(self, who: int, pick: int, payloads: dict[str, dict[str, Any]], move: str | None) -> None:
            live = self.live_events(self.users[who])
            if not live:
                return
            target = live[pick % len(live)]
            kind = self.kind(target)
            if kind not in payloads:
                return  # a check-in's assessment: corrected through the check-in routes
            args: dict[str, Any] = {"action": "correct", "related_event_id": target, "event_data": payloads[kind]}
            if move:
                args["occurred_at"] = move
            status, out = call(owner, self.users[who], "create_event", args)
            assert status == "ok", (status, out)

        @rule(who=st.integers(0, 1), pick=picks)
        def retract(self, who: int, pick: int) -> None:
            live = self.live_events(self.users[who])
            if not live:
                return
            status, out = call(
                owner,
                self.users[who],
                "create_event",
                {"action": "retract", "related_event_id": live[pick % len(live)]},
            )
            assert status == "ok", (status, out)

        # ----------------------------------------------------------------------------------- check-ins, either mode
        @rule(who=st.integers(0, 1), v1=st.booleans(), date=st.sampled_from(CHECKIN_DATES), body=checkin_bodies)
        def checkin(self, who: int, v1: bool, date: str, body: dict[str, Any]) -> None:
            fn = "v1_create_checkin" if v1 else "create_checkin"
            status, out = call(owner, self.users[who], fn, {**body, "date_submitted": date})
            assert status in ("ok", "NV409"), (status, out)

        @rule(
            who=st.integers(0, 1),
            v1=st.booleans(),
            pick=picks,
            date=st.one_of(st.none(), st.sampled_from(CHECKIN_DATES)),
            body=checkin_bodies,
        )
        def update_checkin(self, who: int, v1: bool, pick: int, date: str | None, body: dict[str, Any]) -> None:
            ids = self.checkin_ids(self.users[who])
            if not ids:
                return
            sent = {"id": ids[pick % len(ids)], **body, **({"date_submitted": date} if date else {})}
            status, out = call(owner, self.users[who], "v1_update_checkin" if v1 else "update_checkin", sent)
            assert status in ("ok", "NV409"), (status, out)

        @rule(who=st.integers(0, 1), v1=st.booleans(), pick=picks)
        def delete_checkin(self, who: int, v1: bool, pick: int) -> None:
            ids = self.checkin_ids(self.users[who])
            if not ids:
                return
            fn = "v1_delete_checkin" if v1 else "delete_checkin"
            status, out = call(owner, self.users[who], fn, {"id": ids[pick % len(ids)]})
            assert status == "ok", (status, out)

        # ----------------------------------------------------------------------------------- imports, zones
        @rule(who=st.integers(0, 1))
        def read_analytics(self, who: int) -> None:
            """A V2 read imports the caller's pending V1-mode writes first (their days' rollups with them)."""
            status, out = call(owner, self.users[who], "analytics", {"timeframe": "quarter"})
            assert status == "ok", (status, out)

        @rule()
        def flip(self) -> None:
            """The flag turns on: every pending V1-mode write is imported (as the owner, for every user)."""
            while owner.execute("SELECT core.sync_legacy_checkins(NULL, 1000)").fetchone()[0]:  # type: ignore[index]
                pass

        @rule(who=st.integers(0, 1), zone=st.sampled_from(ZONES))
        def move_zone(self, who: int, zone: str) -> None:
            owner.execute(
                "UPDATE public.user_profiles SET timezone = %s"
                " WHERE user_id = (SELECT id FROM public.users WHERE email = %s)",
                [zone, self.users[who]],
            )

        # ----------------------------------------------------------------------------------- concurrent sessions
        @rule(
            who=st.integers(0, 1),
            at=instants,
            plans=st.lists(st.lists(burst_ops, min_size=1, max_size=3), min_size=3, max_size=3),
        )
        def burst(
            self, who: int, at: str, plans: list[list[tuple[str, int, tuple[str, dict[str, Any]], dict[str, Any]]]]
        ) -> None:
            """Sessions writing to the same user-days at once: records, and corrections and retractions of the same
            live events (one of two concurrent supersessions of an event wins, the other gets 409)."""
            email = self.users[who]
            live = self.live_events(email)
            resolved: list[list[dict[str, Any]]] = []
            for ops in plans:
                todo: list[dict[str, Any]] = []
                for choice, pick, (kind, data), payloads in ops:
                    if choice == "record" or not live:
                        todo.append({"event_type": kind, "event_data": data, "occurred_at": at})
                        continue
                    target = live[pick % len(live)]
                    target_kind = self.kind(target)
                    if choice == "correct" and target_kind in payloads:
                        # onto the burst's day, with new data
                        todo.append(
                            {
                                "action": "correct",
                                "related_event_id": target,
                                "occurred_at": at,
                                "event_data": payloads[target_kind],
                            }
                        )
                    else:
                        todo.append({"action": "retract", "related_event_id": target})
                resolved.append(todo)
            barrier = threading.Barrier(len(sessions))
            failures: list[str] = []

            def work(conn: psycopg.Connection, ops: list[dict[str, Any]]) -> None:
                barrier.wait()
                for op in ops:
                    status, out = call(conn, email, "create_event", op)
                    # 409: another session superseded that event first; 40P01/40001: the server chose a victim
                    if status not in ("ok", "NV409", "NV404", "40P01", "40001"):
                        failures.append(f"{status} {out} for {op}")

            threads = [threading.Thread(target=work, args=(s, ops)) for s, ops in zip(sessions, resolved, strict=True)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not failures, failures

        # ----------------------------------------------------------------------------------- the invariant
        @invariant()
        def rollups_equal_the_log(self) -> None:
            self.check()

        def check(self) -> None:
            diff = differences(owner)
            assert not diff, "\n".join(diff[:20])

        def teardown(self) -> None:
            self.flip()
            self.check()
            for email in self.users:  # the next history starts from an empty database again
                owner.execute("SELECT core.erase_user(u.id) FROM public.users AS u WHERE u.email = %s", [email])
            left = owner.execute("SELECT count(*) FROM public.user_day_rollups").fetchone()
            assert left == (0,), "erasure leaves no rollup behind"

    run_state_machine_as_test(
        Histories,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_a_broken_rollup_is_seen(db_url: str) -> None:
    """The comparison is not vacuous: a rollup changed behind the trigger's back, or missing, is reported."""
    with psycopg.connect(db_url, autocommit=True) as owner:
        owner.execute("INSERT INTO public.users (email) VALUES ('broken@example.com')")
        status, out = call(
            owner,
            "broken@example.com",
            "create_event",
            {
                "event_type": "mood",
                "event_data": {"mood": "great", "confidence": 9},
                "occurred_at": "2026-03-08T12:00:00Z",
            },
        )
        assert status == "ok", out
        assert differences(owner) == []
        owner.execute("UPDATE public.user_day_rollups SET confidence_sum = confidence_sum + 1")
        assert any("row differs" in d for d in differences(owner))
        assert any("rollups, not log" in d for d in differences(owner))
        owner.execute("SELECT core.user_day_rollup_refresh(user_id, date) FROM public.user_day_rollups")
        assert differences(owner) == []
        owner.execute("DELETE FROM public.user_day_rollups")
        assert any("no row" in d for d in differences(owner))
