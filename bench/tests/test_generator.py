"""The benchmark's bulk loader writes exactly the rows the real functions write (novara/seed.sql).

Two cohorts get the same plan (same seed, same user numbers, same profiles): cohort "a" is written
set-based (seed.load_bulk), cohort "b" through api.create_checkin and api.create_event. Every row of
health_events and daily_checkins (the check-ins' read model), and what the log rebuilds (daily_checkins_legacy),
must match, ignoring ids and the timestamps taken at write time (recorded_at, created_at, and occurred_at of
today's check-in, which is "now").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from novara import seed as seeding

SEED = 7
USERS = 6
DAYS = 15


def _events(conn: psycopg.Connection, cohort: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        """
        SELECT
            u.k, e.event_type, e.event_subtype, e.event_data,
            CASE WHEN e.local_date = (now() AT TIME ZONE u.tz)::date AND e.source = 'checkin_v1'
                THEN NULL ELSE e.occurred_at END,
            e.local_date, e.action, e.source, e.source_version, c.date_submitted AS checkin_date,
            e.correlation_id IS NULL, e.related_event_id, e.idempotency_key, e.request_hash
        FROM public.health_events AS e
        JOIN seed.users AS u ON u.user_id = e.user_id
        LEFT JOIN public.daily_checkins AS c ON c.id = e.correlation_id
        WHERE u.cohort = %s
        ORDER BY u.k, e.position
        """,
        (cohort,),
    ).fetchall()


def _checkins(conn: psycopg.Connection, cohort: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        """
        SELECT u.k, l.date_submitted, l.checkin_type, l.fields, l.mood_today, l.confidence_today,
            l.medication_taken, l.side_effects, l.phq4_score, c.created_at = c.updated_at
        FROM public.daily_checkins_legacy AS l
        JOIN public.daily_checkins AS c ON c.id = l.id
        JOIN seed.users AS u ON u.user_id = l.user_id
        WHERE u.cohort = %s
        ORDER BY u.k, l.date_submitted
        """,
        (cohort,),
    ).fetchall()


def _legacy_rows(conn: psycopg.Connection, cohort: str) -> list[tuple[Any, ...]]:
    """The rows of the read model itself (what both modes read), and whether the log rebuilds each."""
    return conn.execute(
        """
        SELECT u.k, d.date_submitted, d.checkin_type, d.fields, d.extra_fields, d.mood_today, d.confidence_today,
            d.medication_taken, d.side_effects, d.coping_strategies_used, d.phq4_score, d.created_at = d.updated_at,
            to_jsonb(v) = to_jsonb(d) - 'created_at' - 'updated_at' - 'extra_fields'
        FROM public.daily_checkins AS d
        JOIN seed.users AS u ON u.user_id = d.user_id
        LEFT JOIN public.daily_checkins_legacy AS v ON v.id = d.id
        WHERE u.cohort = %s
        ORDER BY u.k, d.date_submitted
        """,
        (cohort,),
    ).fetchall()


@pytest.fixture
def loaded(db_url: str) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(db_url, autocommit=True)
    seeding.install(conn)
    for cohort in ("a", "b"):
        assert seeding.signup(conn, SEED, cohort, cohort, 0, USERS, DAYS, seeding.CHECKIN_PROBABILITY) == USERS
    bulk = seeding.write_cohort(conn, SEED, "a", 0, USERS, bulk=True)
    calls = seeding.write_cohort(conn, SEED, "b", 0, USERS, bulk=False)
    assert bulk[:2] == calls[:2]  # same number of check-ins and events
    yield conn
    conn.close()


def test_bulk_rows_are_the_functions_rows(loaded: psycopg.Connection) -> None:
    bulk, calls = _events(loaded, "a"), _events(loaded, "b")
    assert len(bulk) > USERS * DAYS  # check-ins of several events each, plus V2 events
    assert bulk == calls
    # The comparison covers every kind of row the generator writes.
    assert {(r[1], r[2]) for r in bulk} == {
        ("mood", "daily_checkin"),
        ("medication", "daily_checkin"),
        ("symptom", "daily_checkin"),
        ("assessment", "phq4"),
        ("sleep", None),
        ("exercise", None),
        ("vital", None),
        ("note", None),
    }
    assert {r[7] for r in bulk} == {"checkin_v1", "api_v2"}


def test_bulk_checkins_read_back_like_the_functions(loaded: psycopg.Connection) -> None:
    bulk, calls = _checkins(loaded, "a"), _checkins(loaded, "b")
    assert 0 < len(bulk) < USERS * DAYS  # a check-in on most days, not all
    assert bulk == calls
    assert any(row[7] is not None for row in bulk) and any(row[8] is not None for row in bulk)


def test_bulk_writes_the_read_model_like_the_functions(loaded: psycopg.Connection) -> None:
    bulk, calls = _legacy_rows(loaded, "a"), _legacy_rows(loaded, "b")
    assert len(bulk) == len(_checkins(loaded, "a")) > 0  # one row per check-in, same id as its events
    assert all(row[-1] for row in bulk)  # every column equal to the log's rebuild
    assert bulk == calls
    changes = loaded.execute("SELECT count(*) FROM public.legacy_checkin_changes").fetchone()
    assert changes == (0,)  # a write of the V2 path is not logged as a V1-mode change


def test_generator_is_deterministic(loaded: psycopg.Connection) -> None:
    """The same seed plans the same check-ins again; another seed plans others."""

    def plan(seed: int) -> list[tuple[Any, ...]]:
        with loaded.transaction(force_rollback=True):
            loaded.execute("SELECT seed.plan(%s, 'a', 0, %s)", (seed, USERS))
            return loaded.execute(
                "SELECT k, local_date, fields FROM seed.plan_checkins ORDER BY k, local_date"
            ).fetchall()

    first = plan(SEED)
    assert first == plan(SEED)
    assert first != plan(SEED + 1)
    assert first == _checkin_plan_rows(loaded)


def _checkin_plan_rows(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """What cohort a holds: (k, date, fields) of its check-ins, as planned."""
    return conn.execute(
        """
        SELECT u.k, l.date_submitted, l.fields
        FROM public.daily_checkins_legacy AS l JOIN seed.users AS u ON u.user_id = l.user_id
        WHERE u.cohort = 'a' ORDER BY u.k, l.date_submitted
        """
    ).fetchall()
