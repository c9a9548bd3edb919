"""The backfill of legacy check-ins into the event log (migration 0010, docs/v1-v2-sync.md), at volume.

Legacy rows are generated set-based (varied values: arrays, nulls, JSON nulls, extras, an unknown column,
rows with and without "fields", several users, timezones and dates; logged in the change log, as any write
outside the V2 path), core.backfill_legacy_checkins runs in batches until it returns 0, and the read model
(daily_checkins) must equal what the event log rebuilds (daily_checkins_legacy), every column of every row
(tests.checkins_drift). A second run imports nothing. `pytest -s` prints the time.
"""

from __future__ import annotations

import time

import psycopg
import pytest

SEED = """
ALTER TABLE public.daily_checkins ADD COLUMN clinic_code text;  -- a real deployment's extra column
INSERT INTO public.users (email) SELECT 'legacy' || u || '@example.com' FROM generate_series(1, __USERS__) AS u;
INSERT INTO public.user_profiles (user_id, timezone)
SELECT u.id, (ARRAY['America/Los_Angeles', 'Europe/Paris', 'Asia/Tokyo', 'Pacific/Kiritimati'])[1 + n % 4]
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM public.users) AS u;
INSERT INTO public.daily_checkins (
    user_id, date_submitted, mood_today, confidence_today, medication_taken, user_note, primary_concern_today,
    anxiety_level, side_effects, missed_doses, injection_confidence, appointment_within_3_days, appointment_anxiety,
    coping_strategies_used, partner_involved_today, wish_knew_more_about, phq4_feeling_nervous, phq4_stop_worrying,
    phq4_little_interest, phq4_feeling_down, phq4_score, phq4_anxiety, phq4_depression, checkin_type, extra_fields,
    created_at, updated_at, clinic_code
)
SELECT
    u.id,
    DATE '2020-01-01' + g,
    (ARRAY['hopeful', 'anxious, tired', 'grateful', 'very tough', 'okay'])[1 + g % 5],
    1 + g % 10,
    (ARRAY['yes', 'no', 'partial', 'not_applicable', 'not tracked'])[1 + g % 5],
    CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || g || E'\\nline two' END,
    CASE WHEN g % 4 = 0 THEN 'costs' END,
    CASE WHEN g % 2 = 0 THEN 1 + g % 10 END,
    CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN 'null'::jsonb WHEN 2 THEN '[]'::jsonb
        ELSE jsonb_build_array('nausea', 'headache ' || g) END,
    CASE WHEN g % 5 = 0 THEN g % 3 END,
    CASE WHEN g % 6 = 0 THEN 1 + g % 10 END,
    CASE g % 3 WHEN 0 THEN TRUE WHEN 1 THEN FALSE END,
    CASE WHEN g % 7 = 0 THEN 5 END,
    CASE WHEN g % 2 = 1 THEN '["walk", "breathe\\nslowly"]'::jsonb END,
    CASE WHEN g % 5 = 1 THEN TRUE END,
    CASE WHEN g % 9 = 0 THEN '["nutrition"]'::jsonb END,
    CASE WHEN g % 4 = 1 THEN g % 4 END,
    CASE WHEN g % 4 = 1 THEN (g + 1) % 4 END,
    CASE WHEN g % 4 = 1 THEN (g + 2) % 4 END,
    CASE WHEN g % 4 = 1 THEN (g + 3) % 4 END,
    CASE WHEN g % 4 = 1 THEN 6 END,
    CASE WHEN g % 8 = 1 THEN 3 END,
    NULL,
    CASE WHEN g % 10 = 0 THEN 'enhanced' ELSE 'standard' END,
    CASE g % 5
        WHEN 0 THEN '{}'::jsonb
        WHEN 1 THEN jsonb_build_object('journey_momentum', 'up', 'financial_stress_today', g % 10 + 1)
        WHEN 2 THEN jsonb_build_object('physical_symptoms', jsonb_build_array('cramps', jsonb_build_object('x', NULL)))
        WHEN 3 THEN jsonb_build_object('custom key', jsonb_build_object('nested', jsonb_build_array(1, 2.5, NULL)))
        ELSE jsonb_build_object('sentiment_analysis', jsonb_build_object('sentiment', 'positive'))
    END,
    TIMESTAMPTZ '2020-01-01 08:00+00' + g * INTERVAL '1 day' + (g % 13) * INTERVAL '1 hour',
    TIMESTAMPTZ '2020-01-01 08:00+00' + g * INTERVAL '1 day' + (g % 13) * INTERVAL '1 hour'
        + (g % 3) * INTERVAL '1 day',
    CASE WHEN g % 11 = 0 THEN 'C-' || g END
FROM public.users AS u
CROSS JOIN generate_series(0, __PER_USER__ - 1) AS g;
-- One row in ten as the V1-mode functions write it: "fields" holds the answers as given, nulls included (a given
-- null is a NULL column too).
UPDATE public.daily_checkins
SET fields = core.legacy_fields(daily_checkins) || '{"primary_concern_today": null}'::jsonb,
    primary_concern_today = NULL
WHERE date_submitted - DATE '2020-01-01' IN (SELECT g * 10 FROM generate_series(0, __PER_USER__ / 10) AS g);
ANALYZE public.daily_checkins;
"""

LIST = """
SELECT api.v1_list_checkins('{"limit": 100}') -> 'checkins', api.list_checkins('{"limit": 100}') -> 'checkins'
"""


def backfill(conn: psycopg.Connection, users: int, per_user: int) -> None:
    conn.autocommit = True
    conn.execute(SEED.replace("__USERS__", str(users)).replace("__PER_USER__", str(per_user)))  # type: ignore[arg-type]
    total = users * per_user
    assert conn.execute("SELECT count(*) FROM public.daily_checkins").fetchone() == (total,)

    started = time.perf_counter()
    imported = 0
    while n := conn.execute("SELECT core.backfill_legacy_checkins(10000)").fetchone()[0]:  # type: ignore[index]
        imported += n
    elapsed = time.perf_counter() - started
    print(f"\nbackfill of {total} legacy rows: {elapsed:.1f} s ({total / elapsed:.0f} rows/s)")
    assert imported == total

    counts = conn.execute(
        "SELECT (SELECT count(*) FROM public.daily_checkins_legacy),"
        " (SELECT count(*) FROM public.legacy_checkin_changes),"
        " (SELECT count(DISTINCT correlation_id) FROM public.health_events)"
    ).fetchone()
    assert counts == (total, 0, total), "one check-in in the log per row (same id), the change log consumed"
    assert conn.execute("SELECT tests.checkins_drift()").fetchone() == (None,), "the log rebuilds the read model"
    # the same through the API functions of both modes, whole item lists, for a few users
    for (user_id,) in conn.execute("SELECT id FROM public.users ORDER BY email LIMIT 3").fetchall():
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", [f'{{"id": "{user_id}"}}'])
        v1, v2 = conn.execute(LIST).fetchone()  # type: ignore[misc]
        assert len(v1) == 100 and {i["user_id"] for i in v1} == {str(user_id)}
        assert v1 == v2
    # spot checks of the mapping (day 33: unknown column set, "custom key" extra, side_effects JSON null)
    extra = conn.execute(
        "SELECT v.fields -> 'clinic_code', v.fields -> 'custom key', v.fields ? 'side_effects', v.fields"
        " ->> 'user_note' FROM public.daily_checkins_legacy AS v WHERE v.date_submitted = DATE '2020-01-01' + 33"
        " LIMIT 1"
    ).fetchone()
    assert extra == ("C-33", {"nested": [1, 2.5, None]}, False, None)
    # idempotent: a second run imports nothing and appends nothing
    events = conn.execute("SELECT count(*) FROM public.health_events").fetchone()
    assert conn.execute("SELECT core.backfill_legacy_checkins(10000)").fetchone() == (0,)
    assert conn.execute("SELECT core.sync_legacy_checkins(NULL, 10000)").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM public.health_events").fetchone() == events


def test_backfill_10k(postgresql: psycopg.Connection) -> None:
    backfill(postgresql, users=20, per_user=500)


@pytest.mark.slow
def test_backfill_100k(postgresql: psycopg.Connection) -> None:
    backfill(postgresql, users=100, per_user=1000)
