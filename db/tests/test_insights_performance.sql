-- The insight, metrics and question functions read only the caller's rows through indexes, also for a user
-- with 3 years of daily check-ins among other users (no sequential scan of a per-user history table).

-- p_days daily check-ins of each user ending on p_end, written set-based as the check-in functions write them
-- (the daily_checkins row of the final state + mood/medication events, a PHQ-4 assessment every 7th day, a
-- correction every 10th day), plus a stored daily insight per day before p_end and an engagement row for two days
-- in three.
CREATE OR REPLACE FUNCTION tests.perf_history(p_users uuid[], p_days integer, p_end date)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TEMPORARY TABLE perf_days ON COMMIT DROP AS
    SELECT
        gen_random_uuid() AS id,
        u.id AS user_id,
        g.d::date AS local_date,
        g.d + INTERVAL '20 hours' AS created_at,
        row_number() OVER (PARTITION BY u.id ORDER BY g.d)::integer AS i
    FROM unnest(p_users) AS u (id)
    CROSS JOIN generate_series(p_end - p_days + 1, p_end, INTERVAL '1 day') AS g (d);

    -- the read model holds each check-in's final state (the corrected mood of every 10th day); written as the V2
    -- functions write it, so the change log skips it
    PERFORM set_config('novara.sync_source', 'v2', TRUE);
    INSERT INTO public.daily_checkins
    SELECT r.*
    FROM perf_days AS d
    CROSS JOIN LATERAL (
        SELECT
            (ARRAY['hopeful', 'anxious', 'tired', 'great', 'okay, tired', 'sad', 'blorp'])[1 + d.i % 7] AS mood,
            (ARRAY['walk', 'yoga', 'deep breathing'])[1 + d.i % 3] AS strategy
    ) AS x
    CROSS JOIN LATERAL jsonb_populate_record(NULL::public.daily_checkins, core.legacy_row(
        d.id, d.user_id, d.local_date, 'standard', d.created_at, d.created_at,
        jsonb_build_object(
            'mood_today', CASE WHEN d.i % 10 = 0 THEN 'hopeful' ELSE x.mood END, 'confidence_today', 1 + d.i % 10,
            'anxiety_level', 1 + (d.i * 7) % 10, 'coping_strategies_used', jsonb_build_array(x.strategy, 'journaling'),
            'partner_involved_today', d.i % 3 = 0, 'user_note', 'day ' || d.i,
            'medication_taken', (ARRAY['yes', 'no', 'partial', 'not_applicable'])[1 + d.i % 4], 'missed_doses', d.i % 2
        ) || CASE WHEN d.i % 7 = 0 THEN jsonb_build_object('phq4_score', d.i % 13) ELSE '{}' END
    )) AS r;
    PERFORM set_config('novara.sync_source', '', TRUE);

    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date, source, source_version, correlation_id
    )
    SELECT
        d.user_id, 'mood', 'daily_checkin',
        jsonb_build_object('mood', x.mood, 'confidence', 1 + d.i % 10, 'anxiety', 1 + (d.i * 7) % 10,
            'checkin_type', 'standard', 'fields', jsonb_build_object(
                'mood_today', x.mood, 'confidence_today', 1 + d.i % 10, 'anxiety_level', 1 + (d.i * 7) % 10,
                'coping_strategies_used', jsonb_build_array(x.strategy, 'journaling'),
                'partner_involved_today', d.i % 3 = 0, 'user_note', 'day ' || d.i)),
        d.created_at, d.local_date, 'checkin_v1', 'v1-compat', d.id
    FROM perf_days AS d
    CROSS JOIN LATERAL (
        SELECT
            (ARRAY['hopeful', 'anxious', 'tired', 'great', 'okay, tired', 'sad', 'blorp'])[1 + d.i % 7] AS mood,
            (ARRAY['walk', 'yoga', 'deep breathing'])[1 + d.i % 3] AS strategy
    ) AS x
    UNION ALL
    SELECT
        d.user_id, 'medication', 'daily_checkin',
        jsonb_build_object('status', (ARRAY['taken', 'missed', 'partial', 'not_applicable'])[1 + d.i % 4],
            'missed_doses', d.i % 2, 'fields', jsonb_build_object(
                'medication_taken', (ARRAY['yes', 'no', 'partial', 'not_applicable'])[1 + d.i % 4],
                'missed_doses', d.i % 2)),
        d.created_at, d.local_date, 'checkin_v1', 'v1-compat', d.id
    FROM perf_days AS d
    UNION ALL
    SELECT
        d.user_id, 'assessment', 'phq4',
        jsonb_build_object('instrument', 'PHQ-4', 'score', d.i % 13, 'fields', jsonb_build_object(
            'phq4_score', d.i % 13)),
        d.created_at, d.local_date, 'checkin_v1', 'v1-compat', d.id
    FROM perf_days AS d
    WHERE d.i % 7 = 0;

    -- every 10th day's mood answer corrected once (full new payload, as a PUT appends it)
    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date, action, source, source_version,
        correlation_id, related_event_id
    )
    SELECT
        e.user_id, e.event_type, e.event_subtype,
        jsonb_set(jsonb_set(e.event_data, '{mood}', '"hopeful"'), '{fields,mood_today}', '"hopeful"'),
        e.occurred_at, e.local_date, 'correct', e.source, e.source_version, e.correlation_id, e.id
    FROM public.health_events AS e
    INNER JOIN perf_days AS d ON d.id = e.correlation_id
    WHERE e.event_type = 'mood' AND d.i % 10 = 0;

    INSERT INTO public.insights (user_id, insight_type, category, title, message, icon, confidence, local_date,
        created_at, analysis_data)
    SELECT d.user_id, 'encouragement', 'daily', 'Every check-in counts', 'Keep going', '🌟', 0.5, d.local_date,
        d.created_at, '{"checkins_analyzed": 7}'
    FROM perf_days AS d
    WHERE d.local_date < p_end;

    INSERT INTO public.insight_engagement (user_id, insight_id, insight_type, action, local_date, created_at)
    SELECT i.user_id, i.id, 'daily', (ARRAY['viewed', 'clicked', 'dismissed'])[1 + n % 3], i.local_date, i.created_at
    FROM (SELECT x.*, row_number() OVER (PARTITION BY x.user_id ORDER BY x.local_date) AS n
        FROM public.insights AS x WHERE x.user_id = ANY (p_users)) AS i
    WHERE i.n % 3 <> 0;
    DROP TABLE perf_days;
END
$$;

-- Sequential scans of the per-user history tables in this transaction so far.
CREATE OR REPLACE FUNCTION tests.perf_seq_scans()
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT coalesce(sum(t.seq_scan), 0)::bigint
    FROM pg_catalog.pg_stat_xact_user_tables AS t
    WHERE t.schemaname = 'public'
        AND t.relname IN ('health_events', 'daily_checkins', 'insights', 'insight_engagement', 'insight_feedback')
$$;

CREATE OR REPLACE FUNCTION tests.perf_idx_scans()
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT coalesce(sum(t.idx_scan), 0)::bigint
    FROM pg_catalog.pg_stat_xact_user_tables AS t
    WHERE t.schemaname = 'public'
        AND t.relname IN ('health_events', 'daily_checkins', 'insights', 'insight_engagement', 'insight_feedback')
$$;

CREATE OR REPLACE FUNCTION tests.test_three_year_user_reads_by_index()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    big uuid;
    others uuid[];
    today date;
    call text;
    seq bigint;
    idx bigint;
    r jsonb;
BEGIN
    -- 100 other users with 60 days each, then the 3-year user (1096 days ending today)
    WITH u AS (
        INSERT INTO public.users (email) SELECT 'other' || n || '@example.com' FROM generate_series(1, 100) AS n
        RETURNING id
    ), p AS (
        INSERT INTO public.user_profiles (user_id) SELECT u.id FROM u RETURNING user_id
    )
    SELECT array_agg(p.user_id) INTO others FROM p;
    PERFORM tests.perf_history(others, 60, current_date);
    big := (api.signup('{"email": "big@example.com", "nickname": "Big", "primary_need": "x",
        "cycle_stage": "stimulation"}') #>> '{user,id}')::uuid;
    today := core.local_date(big);
    PERFORM tests.perf_history(ARRAY[big], 1096, today);
    ANALYZE public.health_events;
    ANALYZE public.daily_checkins;
    ANALYZE public.insights;
    ANALYZE public.insight_engagement;
    ANALYZE public.users;
    ANALYZE public.user_profiles;
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins WHERE user_id = big), 1096::bigint);
    -- the history is what the functions would have written: the log rebuilds the read model
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.daily_checkins AS d
            LEFT JOIN public.daily_checkins_legacy AS v ON v.id = d.id
            WHERE d.user_id = big AND v.fields IS DISTINCT FROM d.fields),
        0::bigint, 'read model = rebuild'
    );

    -- the figures are what the generated history says (a sanity check that the data is the real thing)
    r := api.user_metrics() -> 'metrics';
    PERFORM tests.assert_eq(r ->> 'checkInStreak', '1096');
    PERFORM tests.assert_eq(r ->> 'totalCheckIns', '1096');
    PERFORM tests.assert_eq(r ->> 'totalMedicationCheckIns', '822', '3 of every 4 days tracked');

    FOREACH call IN ARRAY ARRAY[
        'SELECT api.daily_insight()',
        'SELECT api.daily_insight()',
        $q$SELECT api.list_insights('{"limit": "100"}')$q$,
        'SELECT api.micro_insight()',
        $q$SELECT api.create_micro_insight('{"checkinData": {"mood_today": "sad"}}')$q$,
        $q$SELECT api.create_micro_insight('{"onboardingData": {"confidence_costs": 2}}')$q$,
        'SELECT api.engagement()',
        $q$SELECT api.record_engagement('{"insight_type": "daily", "action": "viewed"}')$q$,
        'SELECT api.user_metrics()',
        'SELECT api.checkin_questions()'
    ] LOOP
        seq := tests.perf_seq_scans();
        idx := tests.perf_idx_scans();
        EXECUTE call;
        PERFORM tests.assert_eq(tests.perf_seq_scans() - seq, 0::bigint, call || ': sequential scans');
        -- (the micro insight POST and the questions read the profile only; an engagement without insight_id
        -- is an insert only)
        PERFORM tests.assert_true(tests.perf_idx_scans() > idx OR call ~ 'create_micro|checkin_questions|record_engage',
            call || ': index scans');
    END LOOP;
    r := api.insight_feedback(jsonb_build_object('insight_id', api.daily_insight() #>> '{insight,id}',
        'helpful', TRUE));
    PERFORM tests.assert_eq(tests.perf_seq_scans() - seq, 0::bigint, 'feedback: sequential scans');
END
$$;
