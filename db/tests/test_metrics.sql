-- Metrics: user_daily_metrics_live, the materialized views, public.refresh_user_metrics().

-- An event at a local time of the current user (whose timezone is America/Los_Angeles); returns its id.
CREATE OR REPLACE FUNCTION tests.mx_event(
    p_type text, p_data jsonb, p_local timestamp, p_subtype text DEFAULT NULL
)
RETURNS text
LANGUAGE sql
AS $$
    SELECT tests.add_event(p_type, p_data, core.iso(p_local AT TIME ZONE 'America/Los_Angeles'), p_subtype)
$$;

-- The crafted day 2026-11-10 of the current user, with corrections and retractions.
CREATE OR REPLACE FUNCTION tests.mx_crafted_day()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    wrong text;
    later text;
BEGIN
    PERFORM tests.mx_event('mood', '{"mood": "hopeful", "confidence": 7, "anxiety": 4}', '2026-11-10 09:00',
        'daily_checkin');
    PERFORM tests.mx_event('mood', '{"mood": "anxious, tired", "confidence": 5}', '2026-11-10 20:00');
    later := tests.mx_event('mood', '{"mood": "amazing", "confidence": 10, "anxiety": 1}', '2026-11-10 22:00');
    PERFORM api.create_event(jsonb_build_object('action', 'retract', 'related_event_id', later));
    PERFORM tests.mx_event('medication', '{"status": "taken"}', '2026-11-10 08:00');
    wrong := tests.mx_event('medication', '{"status": "missed"}', '2026-11-10 08:30');
    PERFORM api.create_event(jsonb_build_object('action', 'correct', 'related_event_id', wrong,
        'event_data', '{"status": "taken"}'::jsonb));
    PERFORM tests.mx_event('medication', '{"status": "skipped"}', '2026-11-10 12:00');
    PERFORM tests.mx_event('medication', '{"status": "partial"}', '2026-11-10 13:00');
    PERFORM tests.mx_event('medication', '{"status": "not_tracked"}', '2026-11-10 14:00');
    PERFORM tests.mx_event('symptom', '{"symptoms": ["bloating", "headache"]}', '2026-11-10 15:00');
    PERFORM tests.mx_event('symptom', '{"symptoms": ["cramps"]}', '2026-11-10 23:59:59');
    PERFORM tests.mx_event('note', '{"text": "long day"}', '2026-11-10 00:00');
    -- just outside the day, on both sides
    PERFORM tests.mx_event('symptom', '{"symptoms": ["x"]}', '2026-11-09 23:59:59');
    PERFORM tests.mx_event('mood', '{"mood": "sad"}', '2026-11-11 00:00');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_metrics_of_a_crafted_day()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    m public.user_daily_metrics_live;
BEGIN
    PERFORM tests.mx_crafted_day();
    SELECT * INTO m FROM public.user_daily_metrics_live WHERE user_id = uid AND date = '2026-11-10';
    PERFORM tests.assert_eq(m.latest_mood, 'anxious, tired', 'the latest live mood (the retracted one is gone)');
    PERFORM tests.assert_eq(m.mood_score, 3.50, 'mean of anxious (3) and tired (4)');
    PERFORM tests.assert_eq(m.avg_confidence, 6.00);
    PERFORM tests.assert_eq(m.avg_anxiety, 4.00);
    PERFORM tests.assert_eq(m.checkin_completed, TRUE);
    PERFORM tests.assert_eq(m.mood_entries, 2::bigint);
    PERFORM tests.assert_eq(m.medication_entries, 5::bigint, 'the correction replaces the missed answer');
    PERFORM tests.assert_eq(m.medications_taken, 2::bigint);
    PERFORM tests.assert_eq(m.medications_missed, 1::bigint, 'skipped counts as missed');
    PERFORM tests.assert_eq(m.medications_partial, 1::bigint);
    PERFORM tests.assert_eq(m.symptom_entries, 2::bigint);
    PERFORM tests.assert_eq(m.symptoms_reported, 3::bigint);
    PERFORM tests.assert_eq(m.event_count, 10::bigint);
    PERFORM tests.assert_eq(
        (SELECT array_agg(date::text || ':' || event_count ORDER BY date) FROM public.user_daily_metrics_live),
        ARRAY['2026-11-09:1', '2026-11-10:10', '2026-11-11:1']
    );
    SELECT * INTO m FROM public.user_daily_metrics_live WHERE user_id = uid AND date = '2026-11-11';
    PERFORM tests.assert_eq(m.checkin_completed, FALSE, 'a mood without the daily_checkin subtype');
    PERFORM tests.assert_eq(m.mood_score, 2.00);
    PERFORM tests.assert_eq(m.avg_confidence, NULL::numeric);
    PERFORM tests.assert_eq(m.medication_entries, 0::bigint);
    SELECT * INTO m FROM public.user_daily_metrics_live WHERE user_id = uid AND date = '2026-11-09';
    PERFORM tests.assert_eq(m.latest_mood, NULL);
    PERFORM tests.assert_eq(m.mood_score, NULL::numeric);
    PERFORM tests.assert_eq(m.symptoms_reported, 1::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_metrics_are_per_user_and_row_level_secured()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := tests.make_user('ann@example.com');
    bob uuid;
BEGIN
    PERFORM tests.mx_event('mood', '{"mood": "good"}', '2026-11-10 09:00');
    bob := tests.make_user('bob@example.com');
    PERFORM tests.mx_event('mood', '{"mood": "bad"}', '2026-11-10 10:00');
    PERFORM tests.mx_event('note', '{"text": "x"}', '2026-11-10 11:00');
    PERFORM tests.assert_eq(
        (SELECT array_agg(latest_mood || ':' || event_count ORDER BY latest_mood) FROM public.user_daily_metrics_live),
        ARRAY['bad:2', 'good:1'], 'one row per user and day'
    );
    -- the gateway role sees only the caller's rows (security_invoker), and nothing of the materialized views;
    -- analysts see every user's rows (the snapshots through the views that record each read)
    -- (novara_api may use the tests schema already, see _fixtures.sql)
    GRANT USAGE ON SCHEMA tests TO novara_analyst;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO novara_analyst;
    SET LOCAL ROLE novara_api;
    PERFORM tests.assert_eq((SELECT array_agg(user_id) FROM public.user_daily_metrics_live), ARRAY[bob]);
    PERFORM tests.assert_raises('SELECT count(*) FROM public.user_daily_metrics', '42501', 'permission denied%');
    PERFORM tests.assert_raises('SELECT count(*) FROM public.user_weekly_metrics', '42501', 'permission denied%');
    RESET ROLE;
    SET LOCAL ROLE novara_analyst;
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics_live), 2::bigint);
    -- the snapshots through the recording views only (docs/audit.md)
    PERFORM tests.assert_eq((SELECT count(*) FROM public.analyst_daily_metrics), 0::bigint, 'readable, not refreshed');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.analyst_weekly_metrics), 0::bigint, 'readable, not refreshed');
    PERFORM tests.assert_raises('SELECT count(*) FROM public.user_daily_metrics', '42501', 'permission denied%');
    RESET ROLE;
    PERFORM tests.assert_true(ann IS DISTINCT FROM bob);
    PERFORM tests.assert_eq(has_table_privilege('novara_api', 'public.user_daily_metrics', 'SELECT'), FALSE);
    PERFORM tests.assert_eq(has_table_privilege('novara_api', 'public.user_weekly_metrics', 'SELECT'), FALSE);
    PERFORM tests.assert_eq(has_table_privilege('novara_analyst', 'public.user_daily_metrics', 'SELECT'), FALSE);
    PERFORM tests.assert_eq(has_table_privilege('novara_analyst', 'public.user_weekly_metrics', 'SELECT'), FALSE);
    PERFORM tests.assert_eq(has_table_privilege('novara_analyst', 'public.analyst_daily_metrics', 'SELECT'), TRUE);
    PERFORM tests.assert_eq(has_table_privilege('novara_analyst', 'public.analyst_weekly_metrics', 'SELECT'), TRUE);
    PERFORM tests.assert_eq(has_table_privilege('novara_definer', 'public.user_daily_metrics', 'SELECT'), TRUE);
    PERFORM tests.assert_eq(has_table_privilege('novara_definer', 'public.user_weekly_metrics', 'SELECT'), TRUE);
    PERFORM tests.assert_eq(has_function_privilege('novara_api', 'public.refresh_user_metrics(boolean)', 'EXECUTE'),
        FALSE);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_refresh_concurrently_works_and_logs()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    res jsonb;
    uid uuid := tests.make_user('ann@example.com');
BEGIN
    PERFORM tests.mx_crafted_day();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics), 0::bigint, 'stale before a refresh');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.metrics_refresh_log), 0::bigint);

    res := public.refresh_user_metrics();
    PERFORM tests.assert_eq(res -> 'user_daily_metrics' ->> 'concurrent', 'true');
    PERFORM tests.assert_eq(res -> 'user_weekly_metrics' ->> 'concurrent', 'true');
    PERFORM tests.assert_true((res -> 'user_daily_metrics' ->> 'duration_ms')::integer >= 0);
    PERFORM tests.assert_true(res ->> 'refreshed_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$');
    -- the snapshot equals the live view, row for row
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM (
            SELECT user_id, date, latest_mood, mood_score, avg_confidence, avg_anxiety, checkin_completed,
                mood_entries, medication_entries, medications_taken, medications_missed, medications_partial,
                symptom_entries, symptoms_reported, event_count
            FROM public.user_daily_metrics
            EXCEPT
            SELECT * FROM public.user_daily_metrics_live
        ) AS diff),
        0::bigint
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics), 3::bigint);
    PERFORM tests.assert_eq(
        (SELECT medications_taken FROM public.user_daily_metrics WHERE user_id = uid AND date = '2026-11-10'), 2::bigint
    );
    PERFORM tests.assert_true((SELECT bool_and(last_updated = now()) FROM public.user_daily_metrics), 'last_updated');
    PERFORM tests.assert_eq(
        (SELECT array_agg(view_name || ':' || was_concurrent ORDER BY id) FROM public.metrics_refresh_log),
        ARRAY['user_daily_metrics:true', 'user_weekly_metrics:true']
    );

    -- new events show after the next refresh; a plain refresh is logged as such
    PERFORM tests.mx_event('note', '{"text": "x"}', '2026-11-12 10:00');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics), 3::bigint);
    res := public.refresh_user_metrics(FALSE);
    PERFORM tests.assert_eq(res -> 'user_daily_metrics' ->> 'concurrent', 'false');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics), 4::bigint);
    PERFORM tests.assert_eq(
        (SELECT array_agg(view_name || ':' || was_concurrent ORDER BY id) FROM public.metrics_refresh_log),
        ARRAY['user_daily_metrics:true', 'user_weekly_metrics:true', 'user_daily_metrics:false',
            'user_weekly_metrics:false']
    );
    -- an unpopulated view cannot be refreshed concurrently: the function falls back to a plain refresh
    REFRESH MATERIALIZED VIEW public.user_daily_metrics WITH NO DATA;
    res := public.refresh_user_metrics(TRUE);
    PERFORM tests.assert_eq(res -> 'user_daily_metrics' ->> 'concurrent', 'false');
    PERFORM tests.assert_eq(res -> 'user_weekly_metrics' ->> 'concurrent', 'true');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_daily_metrics), 4::bigint);
    -- the guide's statement works as written
    REFRESH MATERIALIZED VIEW CONCURRENTLY public.user_daily_metrics;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_weekly_metrics_and_adherence()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    w public.user_weekly_metrics;
BEGIN
    -- week of Monday 2026-11-09: taken (Mon), partial (Tue), missed + skipped (Wed), not_tracked (Thu)
    PERFORM tests.mx_event('medication', '{"status": "taken"}', '2026-11-09 08:00');
    PERFORM tests.mx_event('mood', '{"mood": "good"}', '2026-11-09 09:00', 'daily_checkin');
    PERFORM tests.mx_event('medication', '{"status": "partial"}', '2026-11-10 08:00');
    PERFORM tests.mx_event('mood', '{"mood": "okay"}', '2026-11-10 09:00', 'daily_checkin');
    PERFORM tests.mx_event('medication', '{"status": "missed"}', '2026-11-11 08:00');
    PERFORM tests.mx_event('medication', '{"status": "skipped"}', '2026-11-11 20:00');
    PERFORM tests.mx_event('medication', '{"status": "not_tracked"}', '2026-11-12 08:00');
    -- Sunday 2026-11-15 belongs to the same week; Monday 2026-11-16 starts the next
    PERFORM tests.mx_event('mood', '{"mood": "amazing"}', '2026-11-15 23:00');
    PERFORM tests.mx_event('note', '{"text": "x"}', '2026-11-16 00:30');
    PERFORM public.refresh_user_metrics();

    SELECT * INTO w FROM public.user_weekly_metrics WHERE user_id = uid AND week_start = '2026-11-09';
    PERFORM tests.assert_eq(w.days_with_data, 5::bigint);
    PERFORM tests.assert_eq(w.checkin_days, 2::bigint);
    PERFORM tests.assert_eq(w.avg_mood_score, round((7 + 5 + 10) / 3.0, 2), 'good 7, okay 5, amazing 10');
    PERFORM tests.assert_eq(w.medications_taken, 1::numeric);
    PERFORM tests.assert_eq(w.medications_missed, 2::numeric);
    PERFORM tests.assert_eq(w.medications_partial, 1::numeric);
    PERFORM tests.assert_eq(w.adherence_rate, 37.5, '(1 + 0.5) / 4 = 37.5 %');
    SELECT * INTO w FROM public.user_weekly_metrics WHERE user_id = uid AND week_start = '2026-11-16';
    PERFORM tests.assert_eq(w.days_with_data, 1::bigint);
    PERFORM tests.assert_eq(w.adherence_rate, NULL::numeric, 'no medication answers');
    PERFORM tests.assert_eq(w.avg_mood_score, NULL::numeric);
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_weekly_metrics), 2::bigint);
    PERFORM tests.assert_true(
        (SELECT bool_and(extract(ISODOW FROM week_start) = 1) FROM public.user_weekly_metrics), 'weeks start on Monday'
    );
END
$$;
