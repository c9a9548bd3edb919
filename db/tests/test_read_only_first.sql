-- The read-only variants of the GETs that write first ([read-only-first] in db/README.md): the same answer as the
-- route's function while nothing is pending, SQLSTATE 25006 while something is, and STABLE, so that the gateway
-- runs them read-only (on a standby).

CREATE OR REPLACE FUNCTION tests.test_read_only_variants_are_stable_and_answer_alike()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    fn text;
    args jsonb;
BEGIN
    PERFORM tests.assert_eq(
        (SELECT string_agg(p.proname || ':' || p.provolatile::text, ',' ORDER BY p.proname)
            FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND p.proname LIKE '%\_read\_only'),
        'analytics_read_only:s,daily_insight_read_only:s,daily_summary_read_only:s,timeline_read_only:s'
    );
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.create_checkin('{"mood_today": "hopeful", "confidence_today": 8, "medication_taken": "yes"}');
    PERFORM api.create_event('{"event_type": "note", "event_data": {"text": "x"}}');
    FOREACH fn IN ARRAY ARRAY['timeline', 'daily_summary', 'analytics'] LOOP
        FOREACH args IN ARRAY ARRAY['{}'::jsonb, '{"limit": "1", "timeframe": "month"}'::jsonb] LOOP
            EXECUTE format('SELECT tests.assert_json_eq(api.%I($1), api.%I($1), %L)', fn || '_read_only', fn, fn)
            USING args;
        END LOOP;
    END LOOP;
    -- the same errors, from the same core function
    PERFORM tests.assert_raises('SELECT api.timeline_read_only(''{"limit": "0"}'')', 'NV400', NULL);
    PERFORM tests.assert_raises('SELECT api.analytics_read_only(''{"timeframe": "year"}'')', 'NV400', NULL);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_pending_v1_writes_send_the_read_to_the_primary()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    fn text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_create_checkin('{"mood_today": "hopeful", "confidence_today": 8}');  -- V1 mode: pending
    FOREACH fn IN ARRAY ARRAY['timeline', 'daily_summary', 'analytics'] LOOP
        PERFORM tests.assert_raises(format('SELECT api.%I()', fn || '_read_only'), '25006', 'V1-mode writes%');
    END LOOP;
    -- the route's own function imports them, and the read-only variant answers again, with the V1 check-in
    PERFORM tests.assert_eq(api.timeline() #>> '{timeline,0,event_data,mood}', 'hopeful');
    PERFORM tests.assert_eq(api.timeline_read_only() #>> '{timeline,0,event_data,mood}', 'hopeful');
    PERFORM tests.assert_json_eq(api.analytics_read_only(), api.analytics());
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_insight_read_only_answers_the_stored_one()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    stored jsonb;
BEGIN
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.as_gateway('{"email": "bob@example.com"}');
    -- the gate first, as the route's function
    PERFORM tests.assert_raises('SELECT api.daily_insight_read_only()', 'NV403', 'Complete your profile%');
    PERFORM api.update_baseline(
        '{"nickname": "Bob", "confidence_meds": 5, "confidence_costs": 5, "confidence_overall": 5}'
    );
    PERFORM api.update_me('{"primary_need": "emotional_support", "cycle_stage": "stimulation"}');
    -- nothing stored for today's inputs yet: the primary must compute and store it
    PERFORM tests.assert_raises('SELECT api.daily_insight_read_only()', '25006', 'the insight of today%');
    stored := api.daily_insight();
    PERFORM tests.assert_json_eq(api.daily_insight_read_only(), stored, 'the stored insight, read-only');
    -- a new check-in changes the inputs: again not stored
    PERFORM api.create_checkin('{"mood_today": "tired", "confidence_today": 3}');
    PERFORM tests.assert_raises('SELECT api.daily_insight_read_only()', '25006', 'the insight of today%');
    PERFORM tests.assert_true(api.daily_insight() #>> '{insight,id}' <> stored #>> '{insight,id}', 'a new one');
    PERFORM tests.assert_json_eq(api.daily_insight_read_only(), api.daily_insight());
END
$$;
