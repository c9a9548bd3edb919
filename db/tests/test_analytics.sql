-- api.analytics: timeframes, adherence, mood trend, never stale.

-- An event of the current user at local noon p_days_ago local days before their local today.
CREATE OR REPLACE FUNCTION tests.an_event(
    p_type text, p_data jsonb, p_days_ago integer, p_subtype text DEFAULT NULL, p_hour integer DEFAULT 12
)
RETURNS text
LANGUAGE sql
AS $$
    SELECT tests.add_event(
        p_type, p_data,
        core.iso(
            ((core.local_date(core.current_user_id()) - p_days_ago) + make_time(p_hour, 0, 0))
            AT TIME ZONE core.user_timezone(core.current_user_id())
        ),
        p_subtype
    )
$$;

CREATE OR REPLACE FUNCTION tests.test_analytics_timeframes()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    today date;
    res jsonb;
    a jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com', 'Pacific/Auckland');
    today := core.local_date(core.current_user_id());
    PERFORM tests.an_event('mood', '{"mood": "good", "confidence": 6}', 0, 'daily_checkin', 0);
    PERFORM tests.an_event('note', '{"text": "x"}', 6);
    PERFORM tests.an_event('note', '{"text": "x"}', 7);
    PERFORM tests.an_event('sleep', '{"hours": 8}', 29);
    PERFORM tests.an_event('sleep', '{"hours": 8}', 30);
    PERFORM tests.an_event('mood', '{"mood": "sad"}', 89);
    PERFORM tests.an_event('mood', '{"mood": "sad"}', 90);

    res := api.analytics('{}');
    PERFORM tests.assert_eq(res ->> 'success', 'true');
    PERFORM tests.assert_eq(res ->> 'schema_version', 'v2');
    a := res -> 'analytics';
    PERFORM tests.assert_eq(a ->> 'timeframe', 'week', 'default');
    PERFORM tests.assert_eq(a ->> 'end_date', today::text, 'today in Auckland');
    PERFORM tests.assert_eq(a ->> 'start_date', (today - 6)::text);
    PERFORM tests.assert_eq((a ->> 'total_events')::integer, 2);
    PERFORM tests.assert_eq((a ->> 'checkin_count')::integer, 1);
    PERFORM tests.assert_json_eq(a -> 'event_counts', '{"mood": 1, "note": 1}');
    PERFORM tests.assert_eq(jsonb_array_length(a -> 'daily_metrics'), 2);
    PERFORM tests.assert_json_eq(a -> 'daily_metrics' -> 1, jsonb_build_object(
        'date', today::text, 'latest_mood', 'good', 'mood_score', 7.00, 'avg_confidence', 6.00, 'avg_anxiety', NULL,
        'checkin_completed', TRUE, 'mood_entries', 1, 'medication_entries', 0, 'medications_taken', 0,
        'medications_missed', 0, 'medications_partial', 0, 'symptom_entries', 0, 'symptoms_reported', 0,
        'event_count', 1
    ));
    PERFORM tests.assert_eq(a -> 'adherence_rate', 'null'::jsonb, 'no medication answers');
    PERFORM tests.assert_json_eq(a -> 'mood_trends', jsonb_build_object(
        'mood_data', jsonb_build_array(jsonb_build_object('date', today::text, 'mood', 'good', 'mood_score', 7.00,
            'confidence', 6.00)),
        'trend', 'insufficient_data'
    ));

    a := api.analytics('{"timeframe": "week"}') -> 'analytics';
    PERFORM tests.assert_eq((a ->> 'total_events')::integer, 2);
    a := api.analytics('{"timeframe": "month"}') -> 'analytics';
    PERFORM tests.assert_eq(a ->> 'start_date', (today - 29)::text);
    PERFORM tests.assert_eq((a ->> 'total_events')::integer, 4);
    PERFORM tests.assert_json_eq(a -> 'event_counts', '{"mood": 1, "note": 2, "sleep": 1}');
    a := api.analytics('{"timeframe": "quarter"}') -> 'analytics';
    PERFORM tests.assert_eq(a ->> 'start_date', (today - 89)::text);
    PERFORM tests.assert_eq((a ->> 'total_events')::integer, 6);
    PERFORM tests.assert_json_eq(a -> 'event_counts', '{"mood": 2, "note": 2, "sleep": 2}');
    PERFORM tests.assert_eq(jsonb_array_length(a -> 'daily_metrics'), 6);
    PERFORM tests.assert_eq(a -> 'daily_metrics' -> 0 ->> 'date', (today - 89)::text, 'oldest first');
    PERFORM tests.assert_eq(a -> 'mood_trends' ->> 'trend', 'improving', 'sad (2) then good (7)');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_analytics_invalid_timeframe()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d text;
BEGIN
    PERFORM tests.assert_raises($q$SELECT api.analytics('{}')$q$, 'NV401', 'Access token required');
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.assert_raises($q$SELECT api.analytics('{"timeframe": "year"}')$q$, 'NV400',
        'timeframe must be one of: week, month, quarter');
    PERFORM tests.assert_raises($q$SELECT api.analytics('{"timeframe": "WEEK"}')$q$, 'NV400', 'timeframe must be%');
    PERFORM tests.assert_raises($q$SELECT api.analytics('{"timeframe": 7}')$q$, 'NV400', 'timeframe must be%');
    BEGIN
        PERFORM api.analytics('{"timeframe": ""}');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    END;
    PERFORM tests.assert_eq(d::jsonb ->> 'field', 'timeframe');
    PERFORM tests.assert_eq(d::jsonb ->> 'code', 'VALIDATION_ERROR');
    -- a user without events: zeros, empty lists, nulls
    PERFORM tests.assert_json_eq(
        (api.analytics('{"timeframe": "month"}') -> 'analytics') - 'start_date' - 'end_date',
        '{"timeframe": "month", "total_events": 0, "checkin_count": 0, "adherence_rate": null,
          "mood_trends": {"mood_data": [], "trend": "insufficient_data"}, "daily_metrics": [], "event_counts": {}}'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_analytics_adherence_math()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    wrong text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    -- taken 1, taken 1, partial 0.5, missed 0, skipped 0; not_tracked and not_applicable are not counted
    PERFORM tests.an_event('medication', '{"status": "taken"}', 0, NULL, 8);
    PERFORM tests.an_event('medication', '{"status": "taken"}', 1);
    PERFORM tests.an_event('medication', '{"status": "partial"}', 2);
    PERFORM tests.an_event('medication', '{"status": "missed"}', 3);
    PERFORM tests.an_event('medication', '{"status": "skipped"}', 4);
    PERFORM tests.an_event('medication', '{"status": "not_tracked"}', 5);
    PERFORM tests.an_event('medication', '{"status": "not_applicable"}', 6);
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'adherence_rate', '50.0'::jsonb, '2.5 / 5');
    -- a correction replaces its answer: missed -> taken gives 3.5 / 5
    wrong := (SELECT id::text FROM public.health_events WHERE event_data ->> 'status' = 'missed');
    PERFORM api.create_event(jsonb_build_object('action', 'correct', 'related_event_id', wrong,
        'event_data', '{"status": "taken"}'::jsonb));
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'adherence_rate', '70.0'::jsonb);
    -- a retraction removes it: 2.5 / 4
    PERFORM api.create_event(jsonb_build_object('action', 'retract', 'related_event_id',
        (SELECT id FROM public.health_events WHERE event_data ->> 'status' = 'skipped')));
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'adherence_rate', '87.5'::jsonb);
    -- one decimal: 2 taken + 1 missed on another user = 66.7
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.an_event('medication', '{"status": "taken"}', 0, NULL, 1);
    PERFORM tests.an_event('medication', '{"status": "taken"}', 1);
    PERFORM tests.an_event('medication', '{"status": "missed"}', 1);
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'adherence_rate', '66.7'::jsonb);
    PERFORM tests.assert_eq((api.analytics('{}') -> 'analytics' ->> 'total_events')::integer, 3, 'bob''s only');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_analytics_mood_trend()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a jsonb;
BEGIN
    -- declining: earlier half (amazing 10, great 9) vs later half (okay 5, sad 2); the middle day is ignored
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.an_event('mood', '{"mood": "amazing", "confidence": 9}', 6);
    PERFORM tests.an_event('mood', '{"mood": "great"}', 5);
    PERFORM tests.an_event('mood', '{"mood": "hopeful"}', 4);
    PERFORM tests.an_event('mood', '{"mood": "okay"}', 2);
    PERFORM tests.an_event('mood', '{"mood": "sad", "confidence": 3}', 1, NULL, 9);
    PERFORM tests.an_event('mood', '{"mood": "whatever"}', 0, NULL, 1);
    a := api.analytics('{}') -> 'analytics';
    PERFORM tests.assert_eq(a -> 'mood_trends' ->> 'trend', 'declining');
    PERFORM tests.assert_eq(jsonb_array_length(a -> 'mood_trends' -> 'mood_data'), 6, 'unscored moods listed too');
    PERFORM tests.assert_json_eq(a -> 'mood_trends' -> 'mood_data' -> 0, jsonb_build_object(
        'date', (core.local_date(core.current_user_id()) - 6)::text, 'mood', 'amazing', 'mood_score', 10.00,
        'confidence', 9.00));
    PERFORM tests.assert_json_eq(a -> 'mood_trends' -> 'mood_data' -> 5 -> 'mood_score', 'null');

    -- stable: 7, 7.5 vs 7.5, 8 -> +0.5 is not more than 0.5
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.an_event('mood', '{"mood": "good"}', 4);
    PERFORM tests.an_event('mood', '{"mood": "good, happy"}', 3);
    PERFORM tests.an_event('mood', '{"mood": "good, happy"}', 2);
    PERFORM tests.an_event('mood', '{"mood": "happy"}', 1);
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'mood_trends' ->> 'trend', 'stable');

    -- improving, and the day's latest mood is the one that counts
    PERFORM tests.make_user('cy@example.com');
    PERFORM tests.an_event('mood', '{"mood": "hopeful"}', 3, NULL, 8);
    PERFORM tests.an_event('mood', '{"mood": "anxious"}', 3, NULL, 20);
    PERFORM tests.an_event('mood', '{"mood": "hopeful"}', 1);
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'mood_trends' ->> 'trend', 'improving', '3 -> 7');

    -- one scored day: insufficient data
    PERFORM tests.make_user('dee@example.com');
    PERFORM tests.an_event('mood', '{"mood": "hopeful"}', 3);
    PERFORM tests.an_event('mood', '{"mood": "unknown word"}', 2);
    PERFORM tests.assert_eq(api.analytics('{}') -> 'analytics' -> 'mood_trends' ->> 'trend', 'insufficient_data');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_analytics_is_never_stale()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.an_event('medication', '{"status": "taken"}', 1);
    PERFORM public.refresh_user_metrics();
    -- written after the refresh: the materialized view does not have it, analytics does
    PERFORM tests.an_event('medication', '{"status": "missed"}', 0, NULL, 0);
    PERFORM tests.an_event('mood', '{"mood": "good"}', 0, 'daily_checkin', 0);
    PERFORM tests.assert_eq((SELECT sum(event_count) FROM public.user_daily_metrics), 1::numeric, 'the MV is stale');
    PERFORM tests.assert_json_eq(
        (api.analytics('{}') -> 'analytics') - 'start_date' - 'end_date' - 'daily_metrics' - 'mood_trends',
        '{"timeframe": "week", "total_events": 3, "checkin_count": 1, "adherence_rate": 50.0,
          "event_counts": {"medication": 2, "mood": 1}}'
    );
    PERFORM tests.assert_true(
        obj_description('api.analytics(jsonb)'::regprocedure, 'pg_proc') LIKE '%never stale%',
        'the COMMENT says so'
    );
END
$$;
