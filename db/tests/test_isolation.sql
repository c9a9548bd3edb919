-- User A probes user B's data in SQL, as the gateway's role (novara_api) with A's claims: the same probes as
-- tests/isolation/test_http.py, with the same outcome (SQLSTATE NV404, which the gateway answers
-- as 404). Then every per-user relation directly: novara_api sees none of B's rows and cannot write at all;
-- and the functions' owner novara_definer, which holds the table privileges, still cannot see, change or
-- plant B's rows with A's claims: row-level security stops it, not the Python gateway and not a privilege.

-- Users A and B with complete profiles; B has a password, a check-in (sent with an Idempotency-Key), an
-- event, an insight, engagement and feedback on it, and a legacy daily_checkins row. Returns the ids. Leaves
-- no claims set.
CREATE OR REPLACE FUNCTION tests.rp_world()
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    profile jsonb := '{"nickname": "N", "confidence_meds": 5, "confidence_costs": 5, "confidence_overall": 5,
        "primary_need": "emotional_support", "cycle_stage": "ivf_prep"}';
    a uuid := (api.signup(profile || '{"email": "a@example.com"}') #>> '{user,id}')::uuid;
    -- B has a password (a stored hash) too
    b uuid := (api.signup(profile || jsonb_build_object('email', 'b@example.com',
        'password_hash', 'scrypt$16384$8$1$c3Nzc3Nzc3Nzc3Nzc3Nzcw==$a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s='))
        #>> '{user,id}')::uuid;
    ids jsonb;
    legacy uuid;
BEGIN
    PERFORM tests.as_user('a@example.com');
    PERFORM api.create_checkin('{"mood_today": "hopeful", "confidence_today": 6}');
    PERFORM tests.as_user('b@example.com');
    ids := jsonb_build_object(
        'a', a, 'b', b,
        'checkin', api.create_checkin(
            '{"mood_today": "tired", "confidence_today": 3, "idempotency_key": "b-key"}'
        ) #>> '{checkin,id}',
        'event', api.create_event('{"event_type": "note", "event_data": {"text": "B only"}}') #>> '{event,id}',
        'insight', api.daily_insight() #>> '{insight,id}'
    );
    PERFORM api.record_engagement(
        jsonb_build_object('insight_type', 'daily', 'action', 'viewed', 'insight_id', ids ->> 'insight')
    );
    PERFORM api.insight_feedback(jsonb_build_object('insight_id', ids ->> 'insight', 'helpful', TRUE));
    INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today)
    VALUES (b, DATE '2025-01-01', 'legacy', 4)
    RETURNING id INTO legacy;
    REFRESH MATERIALIZED VIEW public.user_daily_metrics;
    PERFORM set_config('request.jwt.claims', '', TRUE);
    RETURN ids || jsonb_build_object('legacy', legacy);
END
$$;

-- Every relation of schema public that holds rows of a user, with the column naming the user: tables, views
-- and materialized views with a user_id column, and users (id). Found in the catalog: a new one is covered.
CREATE OR REPLACE FUNCTION tests.rp_per_user_relations()
RETURNS TABLE (rel text, user_column text, kind text)
LANGUAGE sql
AS $$
    SELECT c.relname::text, a.attname::text, c.relkind::text
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_attribute AS a ON c.oid = a.attrelid
    WHERE
        c.relnamespace = 'public'::regnamespace
        AND c.relkind IN ('r', 'v', 'm', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
        AND (a.attname = 'user_id' OR (c.relname = 'users' AND a.attname = 'id'))
    ORDER BY 1
$$;

CREATE OR REPLACE FUNCTION tests.test_api_functions_refuse_b_ids_as_a()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    w jsonb := tests.rp_world();
    probe record;
    body jsonb;
BEGIN
    PERFORM tests.as_gateway(jsonb_build_object('email', 'a@example.com'));
    PERFORM tests.assert_eq(current_user::text, 'novara_api', 'running as the gateway role');
    -- B's ids where an id of the caller's is expected: the not-found of an unknown id (never NV403)
    FOR probe IN
        SELECT * FROM (VALUES
            ('api.get_checkin', jsonb_build_object('id', w ->> 'checkin'), 'Check-in not found'),
            ('api.update_checkin', jsonb_build_object('id', w ->> 'checkin', 'mood_today', 'x'), 'Check-in not found'),
            ('api.delete_checkin', jsonb_build_object('id', w ->> 'checkin'), 'Check-in not found'),
            ('api.v1_get_checkin', jsonb_build_object('id', w ->> 'legacy'), 'Check-in not found'),
            ('api.v1_update_checkin', jsonb_build_object('id', w ->> 'legacy', 'mood_today', 'x'), 'Check-in not found'),
            ('api.v1_delete_checkin', jsonb_build_object('id', w ->> 'legacy'), 'Check-in not found'),
            ('api.create_event', jsonb_build_object('action', 'retract', 'related_event_id', w ->> 'event'),
                'Event not found'),
            ('api.create_event', jsonb_build_object('action', 'correct', 'related_event_id', w ->> 'event',
                'event_type', 'note', 'event_data', '{"text": "x"}'::jsonb), 'Event not found')
        ) AS p (fn, args, message)
    LOOP
        PERFORM tests.assert_raises(
            format('SELECT %s(%L::jsonb)', probe.fn, probe.args), 'NV404', probe.message, probe.fn
        );
    END LOOP;
    -- B's insight named in an engagement or feedback: not linked, answered exactly like an unknown UUID
    -- (an insight_id that is not one of the caller's is kept as the client's own reference)
    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object(
        'insight_type', 'daily', 'action', 'dismissed', 'insight_id', w ->> 'insight')),
        '{"success": true, "message": "Engagement recorded"}', 'engagement naming B''s insight');
    body := api.insight_feedback(jsonb_build_object('insight_id', w ->> 'insight', 'helpful', FALSE));
    PERFORM tests.assert_json_eq((body -> 'feedback') - 'id' - 'created_at' - 'updated_at', jsonb_build_object(
        'insight_id', w ->> 'insight', 'linked', FALSE, 'helpful', FALSE, 'comment', NULL), 'feedback on it');
    body := api.insight_feedback(jsonb_build_object('insight_id', gen_random_uuid(), 'helpful', FALSE));
    PERFORM tests.assert_eq(body #>> '{feedback,linked}', 'false', 'the same answer as for an unknown UUID');
    -- B's identity in the arguments is ignored: A gets A's own rows
    body := api.list_checkins(jsonb_build_object('user_id', w ->> 'b', 'email', 'b@example.com'));
    PERFORM tests.assert_eq((body ->> 'count')::int, 1, 'A sees one check-in');
    PERFORM tests.assert_eq(body #>> '{checkins,0,user_id}', w ->> 'a', 'and it is A''s');
    body := api.timeline(jsonb_build_object('user_id', w ->> 'b', 'include_history', 'true', 'limit', '1000'));
    PERFORM tests.assert_true((body ->> 'count')::int > 0, 'A has events');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM jsonb_array_elements(body -> 'timeline') AS e WHERE e ->> 'user_id' <> w ->> 'a'),
        0::bigint, 'the timeline holds A''s events only'
    );
    body := api.list_insights(jsonb_build_object('user_id', w ->> 'b'));
    PERFORM tests.assert_true(position(w ->> 'insight' IN body::text) = 0, 'B''s insight is not listed');
    body := api.daily_summary(jsonb_build_object('user_id', w ->> 'b'));
    PERFORM tests.assert_eq(body #>> '{summary,user_id}', w ->> 'a', 'the summary is A''s');
    body := api.me(jsonb_build_object('user_id', w ->> 'b', 'id', w ->> 'b'));
    PERFORM tests.assert_eq(body #>> '{user,id}', w ->> 'a', 'me is A');
    -- B still has everything (read as B)
    PERFORM tests.as_gateway(jsonb_build_object('email', 'b@example.com'));
    body := api.get_checkin(jsonb_build_object('id', w ->> 'checkin'));
    PERFORM tests.assert_eq(body #>> '{checkin,mood_today}', 'tired', 'B''s check-in unchanged');
    PERFORM tests.assert_eq((api.v1_get_checkin(jsonb_build_object('id', w ->> 'legacy')) #>> '{checkin,mood_today}'),
        'legacy', 'B''s legacy check-in unchanged');
    body := api.timeline('{"include_history": "true"}');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM jsonb_array_elements(body -> 'timeline') AS e
            WHERE e ->> 'id' = w ->> 'event' OR e ->> 'related_event_id' = w ->> 'event'),
        1::bigint, 'B''s event is there, neither corrected nor retracted'
    );
    PERFORM tests.assert_eq(
        (SELECT array[count(*) FILTER (WHERE e.action = 'viewed'), count(*)] FROM public.insight_engagement AS e
            WHERE e.insight_id = (w ->> 'insight')::uuid),
        array[1, 1]::bigint[], 'B''s insight has B''s view only'
    );
    PERFORM tests.assert_eq(
        (SELECT array_agg(f.helpful) FROM public.insight_feedback AS f WHERE f.insight_id = (w ->> 'insight')::uuid),
        array[TRUE], 'and B''s feedback, unchanged'
    );
END
$$;

-- novara_api with A's claims, directly on every per-user relation: SELECT shows no row of B (row-level
-- security, or no privilege at all), and INSERT/UPDATE/DELETE are refused for lack of privilege.
CREATE OR REPLACE FUNCTION tests.test_gateway_role_sees_and_writes_nothing_of_b()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    w jsonb := tests.rp_world();
    r record;
    n bigint;
    total bigint;
    err jsonb;
    seen integer := 0;
BEGIN
    FOR r IN SELECT * FROM tests.rp_per_user_relations() LOOP
        seen := seen + 1;
        -- as the superuser: B has rows here (so "no rows" below is a refusal, not an empty table)
        EXECUTE format('SELECT count(*) FROM public.%I WHERE %I = %L', r.rel, r.user_column, w ->> 'b') INTO n;
        PERFORM tests.assert_true(n > 0 OR r.rel IN ('legacy_checkin_changes', 'user_weekly_metrics', 'analyst_weekly_metrics'),
            r.rel || ': B has rows to protect');
        PERFORM tests.as_gateway(jsonb_build_object('email', 'a@example.com'));
        IF has_table_privilege('novara_api', format('public.%I', r.rel), 'SELECT') THEN
            PERFORM tests.assert_true(r.kind <> 'm', r.rel || ': no materialized view is readable (no RLS there)');
            EXECUTE format('SELECT count(*) FROM public.%I WHERE %I = %L', r.rel, r.user_column, w ->> 'b') INTO n;
            PERFORM tests.assert_eq(n, 0::bigint, r.rel || ': B''s rows are invisible to A');
            EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %I = %L) FROM public.%I',
                r.user_column, w ->> 'a', r.rel) INTO total, n;
            PERFORM tests.assert_eq(n, total, r.rel || ': every visible row is A''s');
        ELSE
            PERFORM tests.assert_raises(format('SELECT 1 FROM public.%I', r.rel), '42501', '%permission denied%',
                r.rel);
        END IF;
        IF r.kind IN ('r', 'p') THEN
            PERFORM tests.assert_raises(
                format('UPDATE public.%I SET %I = %I WHERE %I = %L', r.rel, r.user_column, r.user_column,
                    r.user_column, w ->> 'b'), '42501', '%permission denied%', r.rel || ' UPDATE');
            PERFORM tests.assert_raises(
                format('DELETE FROM public.%I WHERE %I = %L', r.rel, r.user_column, w ->> 'b'),
                '42501', '%permission denied%', r.rel || ' DELETE');
            PERFORM tests.assert_raises(format('INSERT INTO public.%I DEFAULT VALUES', r.rel),
                '42501', '%permission denied%', r.rel || ' INSERT');
            PERFORM tests.assert_raises(format('TRUNCATE public.%I CASCADE', r.rel),
                '42501', '%permission denied%', r.rel || ' TRUNCATE');
        END IF;
        PERFORM tests.as_superuser();
    END LOOP;
    PERFORM tests.assert_true(seen >= 12, 'every per-user relation was probed: ' || seen);
    -- the privileged door is closed too
    PERFORM tests.as_gateway(jsonb_build_object('email', 'a@example.com'));
    err := tests.error_of(format('SELECT core.erase_user(%L)', w ->> 'b'));
    PERFORM tests.assert_eq(err ->> 'state', '42501', 'novara_api cannot erase B');
END
$$;

-- The functions' owner novara_definer has the table privileges the functions need; with A's claims it still
-- sees none of B's rows, changes none (0 rows) and cannot write a row for B: row-level security does that.
CREATE OR REPLACE FUNCTION tests.test_rls_stops_the_definer_with_a_claims()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    w jsonb := tests.rp_world();
    r record;
    b_before jsonb := '{}';
    results jsonb := '{}';
    todo jsonb;
    t jsonb;
    n bigint;
    err text;
    checked integer := 0;
BEGIN
    FOR r IN SELECT * FROM tests.rp_per_user_relations() WHERE kind IN ('r', 'p', 'v') LOOP
        EXECUTE format('SELECT count(*) FROM public.%I WHERE %I = %L', r.rel, r.user_column, w ->> 'b') INTO n;
        b_before := b_before || jsonb_build_object(r.rel, n);
    END LOOP;

    -- As novara_definer with A's claims. What to try is listed first, and results are asserted afterwards:
    -- the definer has no access to the tests schema.
    todo := (
        SELECT jsonb_agg(jsonb_build_object(
            'rel', p.rel, 'col', p.user_column, 'is_table', p.kind IN ('r', 'p'),
            'select', has_table_privilege('novara_definer', format('public.%I', p.rel), 'SELECT'),
            'update', has_table_privilege('novara_definer', format('public.%I', p.rel), 'UPDATE'),
            'delete', has_table_privilege('novara_definer', format('public.%I', p.rel), 'DELETE')
        ))
        FROM tests.rp_per_user_relations() AS p WHERE p.kind IN ('r', 'p', 'v')
    );
    PERFORM set_config('request.jwt.claims', jsonb_build_object('email', 'a@example.com')::text, TRUE);
    PERFORM set_config('role', 'novara_definer', TRUE);
    FOR t IN SELECT value FROM jsonb_array_elements(todo) LOOP
        IF (t ->> 'select')::boolean THEN
            EXECUTE format('SELECT count(*) FROM public.%I WHERE %I = %L', t ->> 'rel', t ->> 'col', w ->> 'b')
            INTO n;
            results := results || jsonb_build_object((t ->> 'rel') || ' select', n);
        END IF;
        IF (t ->> 'is_table')::boolean AND (t ->> 'update')::boolean THEN
            EXECUTE format('UPDATE public.%I SET %I = %I WHERE %I = %L', t ->> 'rel', t ->> 'col', t ->> 'col',
                t ->> 'col', w ->> 'b');
            GET DIAGNOSTICS n = ROW_COUNT;
            results := results || jsonb_build_object((t ->> 'rel') || ' update', n);
        END IF;
        IF (t ->> 'is_table')::boolean AND (t ->> 'delete')::boolean THEN
            EXECUTE format('DELETE FROM public.%I WHERE %I = %L', t ->> 'rel', t ->> 'col', w ->> 'b');
            GET DIAGNOSTICS n = ROW_COUNT;
            results := results || jsonb_build_object((t ->> 'rel') || ' delete', n);
        END IF;
    END LOOP;
    -- planting a row for B
    BEGIN
        INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
        VALUES ((w ->> 'b')::uuid, 'note', '{"text": "planted"}', now(), current_date);
        results := results || '{"plant event": "written"}';
    EXCEPTION WHEN insufficient_privilege THEN
        GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
        results := results || jsonb_build_object('plant event', err);
    END;
    BEGIN
        INSERT INTO public.insights (user_id, insight_type, title, message, local_date)
        VALUES ((w ->> 'b')::uuid, 'encouragement', 'planted', 'planted', current_date);
        results := results || '{"plant insight": "written"}';
    EXCEPTION WHEN insufficient_privilege THEN
        GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
        results := results || jsonb_build_object('plant insight', err);
    END;
    PERFORM set_config('role', 'none', TRUE);

    FOR r IN SELECT key, value FROM jsonb_each(results) WHERE key NOT LIKE 'plant %' LOOP
        checked := checked + 1;
        PERFORM tests.assert_eq(r.value, '0'::jsonb, r.key || ' of B''s rows as the definer with A''s claims');
    END LOOP;
    PERFORM tests.assert_true(checked >= 15, 'selects, updates and deletes were tried: ' || checked);
    PERFORM tests.assert_true(results ? 'health_events select' AND results ? 'insights delete', results::text);
    PERFORM tests.assert_true(results ->> 'plant event' LIKE '%row-level security%', results ->> 'plant event');
    PERFORM tests.assert_true(results ->> 'plant insight' LIKE '%row-level security%', results ->> 'plant insight');
    FOR r IN SELECT * FROM tests.rp_per_user_relations() WHERE kind IN ('r', 'p', 'v') LOOP
        EXECUTE format('SELECT count(*) FROM public.%I WHERE %I = %L', r.rel, r.user_column, w ->> 'b') INTO n;
        PERFORM tests.assert_eq(n, (b_before ->> r.rel)::bigint, r.rel || ': B''s rows are all still there');
    END LOOP;
END
$$;
