-- api.daily_summary: one local day of the caller.

CREATE OR REPLACE FUNCTION tests.test_daily_summary_of_a_day()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    bob uuid;
    m1 text;
    med text;
    fixed text;
    gone text;
    ins uuid;
    s jsonb;
BEGIN
    -- 2026-11-10 in Los Angeles is 08:00Z on the 10th to 08:00Z on the 11th
    m1 := tests.add_event('mood', '{"mood": "hopeful", "confidence": 8}', '2026-11-10T17:00:00Z', 'daily_checkin');
    med := tests.add_event('medication', '{"status": "missed"}', '2026-11-10T18:00:00Z');
    fixed := api.create_event(jsonb_build_object('action', 'correct', 'related_event_id', med,
        'event_data', '{"status": "partial"}'::jsonb)) -> 'event' ->> 'id';
    PERFORM tests.add_event('mood', '{"mood": "tired", "confidence": 4}', '2026-11-11T07:59:59Z');
    gone := tests.add_event('note', '{"text": "typo"}', '2026-11-11T07:00:00Z');
    PERFORM api.create_event(jsonb_build_object('action', 'retract', 'related_event_id', gone));
    PERFORM tests.add_event('note', '{"text": "next day"}', '2026-11-11T08:00:00Z');
    INSERT INTO public.insights (user_id, insight_type, title, message, icon, confidence, local_date, created_at)
    VALUES (uid, 'consistency', 'Keep going', 'Three days in a row.', '🔥', 0.85, '2026-11-10',
        '2026-11-10T20:00:00Z')
    RETURNING id INTO ins;
    INSERT INTO public.insights (user_id, insight_type, title, message, local_date)
    VALUES (uid, 'encouragement', 'Other day', 'x', '2026-11-11');
    bob := tests.make_user('bob@example.com');
    PERFORM tests.add_event('mood', '{"mood": "sad"}', '2026-11-10T20:00:00Z');
    PERFORM tests.as_user('ann@example.com');

    s := api.daily_summary('{"date": "2026-11-10"}');
    PERFORM tests.assert_eq(s ->> 'success', 'true');
    PERFORM tests.assert_eq(s ->> 'schema_version', 'v2');
    s := s -> 'summary';
    PERFORM tests.assert_json_eq(s - 'events' - 'insights', jsonb_build_object(
        'date', '2026-11-10', 'user_id', uid, 'check_in_completed', TRUE,
        'mood_score', 4.00, 'confidence_score', 6.00, 'medication_taken', 'partial'
    ), 'tired (4) is the latest mood; confidence (8 + 4) / 2; the corrected medication status');
    PERFORM tests.assert_eq(
        ARRAY(SELECT e ->> 'id' FROM jsonb_array_elements(s -> 'events') AS e),
        ARRAY[(SELECT id::text FROM public.health_events WHERE event_data ->> 'mood' = 'tired'), fixed, m1],
        'live events of the day, newest first'
    );
    PERFORM tests.assert_eq(s -> 'events' -> 1 ->> 'occurred_at', '2026-11-10T18:00:00.000+00:00',
        'the correction keeps the original time');
    PERFORM tests.assert_json_eq(s -> 'insights', jsonb_build_array(jsonb_build_object(
        'id', ins, 'type', 'consistency', 'title', 'Keep going', 'message', 'Three days in a row.', 'icon', '🔥',
        'confidence', 0.85, 'created_at', '2026-11-10T20:00:00.000+00:00'
    )));

    -- a day without anything
    s := api.daily_summary('{"date": "2026-01-01"}') -> 'summary';
    PERFORM tests.assert_json_eq(s, jsonb_build_object(
        'date', '2026-01-01', 'user_id', uid, 'check_in_completed', FALSE, 'mood_score', NULL,
        'confidence_score', NULL, 'medication_taken', NULL, 'events', '[]'::jsonb, 'insights', '[]'::jsonb
    ));
    -- default: the caller's local today
    PERFORM tests.assert_eq(api.daily_summary() -> 'summary' ->> 'date',
        (now() AT TIME ZONE 'America/Los_Angeles')::date::text);
    PERFORM tests.add_event('sleep', '{"hours": 7}', core.iso(now()));
    PERFORM tests.assert_eq(jsonb_array_length(api.daily_summary('{}') -> 'summary' -> 'events'), 1);

    PERFORM tests.assert_raises($q$SELECT api.daily_summary('{"date": "2026-13-01"}')$q$, 'NV400',
        'date must be a real calendar date%');
    PERFORM tests.assert_raises($q$SELECT api.daily_summary('{"date": "11/10/2026"}')$q$, 'NV400',
        'date must be a date (YYYY-MM-DD)');
    PERFORM set_config('request.jwt.claims', '', true);
    PERFORM tests.assert_raises($q$SELECT api.daily_summary('{}')$q$, 'NV401', 'Access token required');
    PERFORM tests.assert_true(bob IS NOT NULL);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_summary_prefers_the_checkin_medication_answer()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    s jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    -- a V1 check-in's medication event carries the V1 answer in its fields
    PERFORM tests.add_event('medication', '{"status": "not_tracked", "fields": {"medication_taken": "not tracked"}}',
        '2026-11-10T17:00:00Z', 'daily_checkin');
    s := api.daily_summary('{"date": "2026-11-10"}') -> 'summary';
    PERFORM tests.assert_eq(s ->> 'medication_taken', 'not tracked');
    PERFORM tests.assert_eq(s ->> 'check_in_completed', 'false', 'no mood check-in event that day');
    -- a later plain medication event is the day's latest answer
    PERFORM tests.add_event('medication', '{"status": "taken"}', '2026-11-10T19:00:00Z');
    s := api.daily_summary('{"date": "2026-11-10"}') -> 'summary';
    PERFORM tests.assert_eq(s ->> 'medication_taken', 'taken');
END
$$;
