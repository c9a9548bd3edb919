-- V1 mode (USE_SCHEMA_V2=false): the api.v1_* functions on the legacy table public.daily_checkins
-- (docs/v1-v2-sync.md). Same validation, messages, statuses and JSON as the V2 functions.

-- Every check-in field (public.checkin_fields), nulls and extras included.
CREATE OR REPLACE FUNCTION tests.v1_payload()
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT $j${
        "mood_today": "hopeful, anxious",
        "confidence_today": "7",
        "medication_taken": "partial",
        "user_note": "Line one\nLine two 🌟 \"quoted\"",
        "date_submitted": "2026-01-15",
        "primary_concern_today": null,
        "anxiety_level": 6,
        "side_effects": ["bloating", "headache\nat night"],
        "missed_doses": 0,
        "injection_confidence": 9,
        "appointment_within_3_days": true,
        "appointment_anxiety": null,
        "coping_strategies_used": ["walk", ""],
        "partner_involved_today": false,
        "wish_knew_more_about": [],
        "phq4_feeling_nervous": 2,
        "phq4_stop_worrying": 1,
        "phq4_little_interest": 0,
        "phq4_feeling_down": 3,
        "phq4_score": 1,
        "journey_reflection_today": "It was a long day.",
        "medication_confidence_today": 8,
        "journey_confidence_today": "7",
        "physical_symptoms": ["cramps", {"name": "fatigue", "level": 2}],
        "symptom_severity": {"cramps": 3, "note": null},
        "sentiment_analysis": {"sentiment": "neutral", "confidence": 0.5},
        "my_extra": {"nested": [1, 2.5, null, "x"]},
        "another extra": null
    }$j$::jsonb
$$;

-- A check-in item without what differs between two writes of the same answers (ids, user, instants).
CREATE OR REPLACE FUNCTION tests.v1_norm(item jsonb)
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT CASE WHEN jsonb_typeof(item) = 'object' THEN
        (item - ARRAY['id', 'user_id', 'created_at', 'updated_at'])
        || CASE WHEN item ? 'fields' THEN
            jsonb_build_object('fields', (item -> 'fields') - ARRAY['id', 'user_id', 'created_at', 'updated_at'])
            ELSE '{}'::jsonb END
        ELSE item END
$$;

-- A response body or error with every check-in item normalised (tests.v1_norm), for V1/V2 comparison.
CREATE OR REPLACE FUNCTION tests.v1_norm_body(body jsonb)
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT CASE
        WHEN body IS NULL OR jsonb_typeof(body) <> 'object' THEN body
        ELSE (
            SELECT jsonb_object_agg(e.key, CASE
                WHEN e.key IN ('checkin', 'last_values', 'lastValues') THEN tests.v1_norm(e.value)
                WHEN e.key = 'existing_checkin' THEN e.value - 'id'
                WHEN e.key IN ('records', 'checkins') THEN (
                    SELECT coalesce(jsonb_agg(tests.v1_norm(x.item) ORDER BY x.n), '[]')
                    FROM jsonb_array_elements(e.value) WITH ORDINALITY AS x (item, n)
                )
                WHEN e.key = 'detail' THEN tests.v1_norm_body(e.value)
                ELSE e.value
            END)
            FROM jsonb_each(body) AS e
        )
    END
$$;

-- Call api.<fn>(args) (V2) or api.v1_<fn>(args) as the gateway for p_email: the body, or the error as
-- {state, message, detail}.
CREATE OR REPLACE FUNCTION tests.v1_call(p_v1 boolean, p_email text, fn text, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    body jsonb;
    st text;
    msg text;
    det text;
BEGIN
    PERFORM tests.as_gateway(jsonb_build_object('email', p_email));
    BEGIN
        EXECUTE format('SELECT api.%I($1)', CASE WHEN p_v1 THEN 'v1_' || fn ELSE fn END) INTO body USING args;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        body := jsonb_build_object('state', st, 'message', msg, 'detail', det::jsonb);
    END;
    PERFORM tests.as_superuser();
    RETURN body;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_v1_create_reads_back_every_field()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    body jsonb;
    item jsonb;
    expected jsonb := (tests.v1_payload() - 'date_submitted' - 'confidence_today')
        || '{"confidence_today": 7, "phq4_score": 6, "phq4_anxiety": 3, "phq4_depression": 3}';
    k text;
    row_d public.daily_checkins;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    body := api.v1_create_checkin(tests.v1_payload());
    PERFORM tests.as_superuser();
    item := body -> 'checkin';
    PERFORM tests.assert_eq(body ->> 'message', 'Daily check-in completed successfully! 🌟');
    PERFORM tests.assert_eq(body -> 'success', 'true'::jsonb);
    PERFORM tests.assert_eq(item ->> 'user_id', uid::text);
    PERFORM tests.assert_eq(item ->> 'date_submitted', '2026-01-15');
    PERFORM tests.assert_eq(item ->> 'checkin_type', 'standard');
    PERFORM tests.assert_eq(item ->> 'created_at', item ->> 'updated_at', 'created = updated at first');
    FOR k IN SELECT jsonb_object_keys(expected) LOOP
        PERFORM tests.assert_json_eq(item -> k, expected -> k, 'flat ' || k);
        PERFORM tests.assert_json_eq(item -> 'fields' -> k, expected -> k, 'fields.' || k);
    END LOOP;
    PERFORM tests.assert_true(item ? 'primary_concern_today' AND item ? 'another extra', 'given nulls come back');
    PERFORM tests.assert_json_eq(item - 'fields', item -> 'fields', 'row flat and under fields');

    -- Stored in the legacy table only: typed columns for psql users, everything in "fields".
    SELECT d.* INTO row_d FROM public.daily_checkins AS d WHERE d.id = (item ->> 'id')::uuid;
    PERFORM tests.assert_eq(row_d.mood_today, 'hopeful, anxious');
    PERFORM tests.assert_eq(row_d.confidence_today, 7::smallint);
    PERFORM tests.assert_eq(row_d.phq4_score, 6::smallint);
    PERFORM tests.assert_eq(row_d.primary_concern_today, NULL::text);
    PERFORM tests.assert_json_eq(row_d.side_effects, '["bloating", "headache\nat night"]');
    PERFORM tests.assert_eq(row_d.appointment_within_3_days, TRUE);
    PERFORM tests.assert_json_eq(row_d.extra_fields -> 'my_extra', '{"nested": [1, 2.5, null, "x"]}');
    PERFORM tests.assert_true(NOT row_d.extra_fields ? 'mood_today', 'typed fields are not extras');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 0::bigint, 'no events in V1 mode');
    PERFORM tests.assert_eq(
        (SELECT string_agg(l.op || ':' || l.checkin_id, ',') FROM public.legacy_checkin_changes AS l),
        'insert:' || (item ->> 'id'), 'the write is in the change log'
    );

    -- Read back by every read function, identical.
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM tests.assert_json_eq(api.v1_get_checkin(jsonb_build_object('id', item ->> 'id')) -> 'checkin', item);
    PERFORM tests.assert_json_eq(api.v1_list_checkins() -> 'checkins' -> 0, item - 'fields');
    PERFORM tests.assert_json_eq(api.v1_list_checkins() -> 'records' -> 0,
        jsonb_build_object('id', item -> 'id', 'fields', item -> 'fields'));
    PERFORM tests.assert_json_eq((api.v1_last_values() -> 'last_values') - 'last_checkin_date'
        - 'days_since_last_checkin', item - 'fields');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_v1_create_errors()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    first_id text;
    err jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('{"mood_today": "ok"}')$q$, 'NV400',
        'Missing required fields: mood_today and confidence_today are required');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('{"mood_today": "  ", "confidence_today": 5}')$q$,
        'NV400', 'Missing required fields: mood_today and confidence_today are required');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 11}')$q$,
        'NV400', 'confidence_today must be between 1 and 10');
    PERFORM tests.assert_raises(
        $q$SELECT api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5, "anxiety_level": "high"}')$q$,
        'NV400', 'anxiety_level must be an integer');
    PERFORM tests.assert_raises(
        $q$SELECT api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5,
            "date_submitted": "2026-02-30"}')$q$,
        'NV400');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('[1]')$q$, 'NV400', 'Invalid JSON body');

    first_id := api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-03-01"}')
        #>> '{checkin,id}';
    err := tests.error_of(
        $q$SELECT api.v1_create_checkin('{"mood_today": "sad", "confidence_today": 2,
            "date_submitted": "2026-03-01"}')$q$
    );
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_eq(err ->> 'message',
        'You have already submitted a check-in for today. Please try again tomorrow.');
    PERFORM tests.assert_json_eq(err -> 'detail', jsonb_build_object('code', 'CHECKIN_EXISTS', 'existing_checkin',
        jsonb_build_object('id', first_id, 'mood_today', 'ok', 'confidence_today', 5, 'date_submitted', '2026-03-01')));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 1::bigint, 'nothing half-written');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.legacy_checkin_changes), 1::bigint, 'one logged write');

    PERFORM tests.as_gateway(NULL);
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5}')$q$,
        'NV401', 'Access token required');
    PERFORM tests.as_gateway('{"email": "nobody@example.com"}');
    PERFORM tests.assert_raises($q$SELECT api.v1_list_checkins()$q$, 'NV404', 'User not found');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_v1_enhanced_today_list_last_values()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    today date;
    body jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com', 'Pacific/Kiritimati');
    today := core.local_date((SELECT u.id FROM public.users AS u));
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    body := api.v1_today_checkin();
    PERFORM tests.assert_json_eq(body, jsonb_build_object('success', TRUE, 'hasCheckedIn', FALSE, 'checkin', NULL,
        'date', today::text));
    PERFORM tests.assert_json_eq(api.v1_last_values(), '{"success": true, "hasValues": false, "last_values": null,
        "lastValues": null, "message": "No previous check-ins found"}');
    PERFORM tests.assert_json_eq(api.v1_list_checkins(), '{"success": true, "records": [], "checkins": [],
        "count": 0}');

    body := api.v1_create_enhanced_checkin('{"mood_today": "good", "confidence_today": 8,
        "sentiment_analysis": {"sentiment": "positive", "confidence": 0.9}}');
    PERFORM tests.assert_eq(body #>> '{checkin,checkin_type}', 'enhanced');
    PERFORM tests.assert_eq(body #>> '{checkin,date_submitted}', today::text, 'default: local today');
    PERFORM tests.assert_eq(body ->> 'message',
        'Daily check-in completed successfully! 🌟 We love your positive energy today! 🎉');
    PERFORM tests.assert_json_eq(body -> 'sentiment_analysis',
        '{"sentiment": "positive", "confidence": 0.9, "celebration_triggered": true}');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_enhanced_checkin('"x"')$q$, 'NV400', 'Invalid JSON body');

    PERFORM api.v1_create_checkin(jsonb_build_object('mood_today', 'tired', 'confidence_today', 3,
        'date_submitted', (today - 3)::text));
    PERFORM api.v1_create_checkin(jsonb_build_object('mood_today', 'okay', 'confidence_today', 5,
        'date_submitted', (today - 1)::text));
    body := api.v1_today_checkin();
    PERFORM tests.assert_eq(body -> 'hasCheckedIn', 'true'::jsonb);
    PERFORM tests.assert_eq(body #>> '{checkin,mood_today}', 'good');

    body := api.v1_list_checkins();
    PERFORM tests.assert_eq(body -> 'count', '3'::jsonb);
    PERFORM tests.assert_json_eq(body -> 'records',
        (SELECT jsonb_agg(jsonb_build_object('id', x -> 'id', 'fields', x) ORDER BY n)
            FROM jsonb_array_elements(body -> 'checkins') WITH ORDINALITY AS a (x, n)),
        'records = checkins, as {id, fields}');
    PERFORM tests.assert_eq(
        (SELECT string_agg(x ->> 'mood_today', ',') FROM jsonb_array_elements(body -> 'checkins') AS x),
        'good,okay,tired', 'newest date first'
    );
    PERFORM tests.assert_eq(api.v1_list_checkins('{"limit": "2"}') -> 'count', '2'::jsonb);
    PERFORM tests.assert_raises($q$SELECT api.v1_list_checkins('{"limit": 0}')$q$, 'NV400',
        'limit must be between 1 and 100');
    PERFORM tests.assert_raises($q$SELECT api.v1_list_checkins('{"limit": "x"}')$q$, 'NV400');

    body := api.v1_last_values();
    PERFORM tests.assert_eq(body -> 'hasValues', 'true'::jsonb);
    PERFORM tests.assert_json_eq(body -> 'last_values', body -> 'lastValues');
    PERFORM tests.assert_eq(body #>> '{last_values,mood_today}', 'good');
    PERFORM tests.assert_eq(body #>> '{last_values,last_checkin_date}', today::text);
    PERFORM tests.assert_eq(body #> '{last_values,days_since_last_checkin}', '0'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_v1_get_update_delete()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a_id text;
    b_id text;
    body jsonb;
    before jsonb;
    err jsonb;
BEGIN
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.as_gateway('{"email": "bob@example.com"}');
    b_id := api.v1_create_checkin('{"mood_today": "bob", "confidence_today": 5}') #>> '{checkin,id}';
    PERFORM tests.as_superuser();
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    a_id := api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5, "user_note": "n",
        "date_submitted": "2026-03-01", "x_extra": 1}') #>> '{checkin,id}';
    PERFORM api.v1_create_checkin('{"mood_today": "busy", "confidence_today": 5, "date_submitted": "2026-03-02"}');

    -- get: 404 for malformed, unknown, other user's
    FOREACH body IN ARRAY ARRAY['{"id": "nope"}', '{}', jsonb_build_object('id', gen_random_uuid()),
        jsonb_build_object('id', b_id)]::jsonb[] LOOP
        PERFORM tests.assert_raises(format('SELECT api.v1_get_checkin(%L)', body), 'NV404', 'Check-in not found');
        PERFORM tests.assert_raises(format('SELECT api.v1_update_checkin(%L)', body || '{"mood_today": "x"}'),
            'NV404', 'Check-in not found');
        PERFORM tests.assert_raises(format('SELECT api.v1_delete_checkin(%L)', body), 'NV404', 'Check-in not found');
    END LOOP;
    PERFORM tests.assert_eq(api.v1_list_checkins() -> 'count', '2'::jsonb, 'only her own');

    -- update: given fields replace, absent ones keep; nothing changes -> updated_at kept
    before := api.v1_get_checkin(jsonb_build_object('id', a_id)) -> 'checkin';
    body := api.v1_update_checkin(jsonb_build_object('id', a_id, 'mood_today', 'ok'));
    PERFORM tests.assert_json_eq(body -> 'checkin', before, 'a no-op update changes nothing');
    PERFORM tests.assert_eq(body ->> 'message', 'Check-in updated successfully! 🌟');
    body := api.v1_update_checkin(jsonb_build_object('id', a_id, 'confidence_today', '9', 'user_note', NULL,
        'anxiety_level', 4, 'id_extra', 'e'));
    PERFORM tests.assert_eq(body #> '{checkin,confidence_today}', '9'::jsonb);
    PERFORM tests.assert_eq(body #> '{checkin,user_note}', 'null'::jsonb, 'null replaces');
    PERFORM tests.assert_eq(body #>> '{checkin,mood_today}', 'ok', 'absent keeps');
    PERFORM tests.assert_eq(body #> '{checkin,x_extra}', '1'::jsonb, 'extras kept');
    PERFORM tests.assert_eq(body #>> '{checkin,created_at}', before ->> 'created_at');
    PERFORM tests.assert_eq(
        (SELECT d.user_note IS NULL AND d.anxiety_level = 4 AND d.confidence_today = 9
            FROM public.daily_checkins AS d WHERE d.id = a_id::uuid), TRUE, 'typed columns follow'
    );

    -- invalid update: 400, nothing written
    PERFORM tests.assert_raises(format('SELECT api.v1_update_checkin(%L)', jsonb_build_object('id', a_id,
        'confidence_today', 0)), 'NV400', 'confidence_today must be between 1 and 10');
    PERFORM tests.assert_raises(format('SELECT api.v1_update_checkin(%L)', jsonb_build_object('id', a_id,
        'mood_today', NULL)), 'NV400', 'Missing required fields: mood_today and confidence_today are required');
    PERFORM tests.assert_eq(api.v1_get_checkin(jsonb_build_object('id', a_id)) #> '{checkin,confidence_today}',
        '9'::jsonb);

    -- move onto a taken date: 409 naming the date; onto a free one: fine
    err := tests.error_of(format('SELECT api.v1_update_checkin(%L)', jsonb_build_object('id', a_id,
        'date_submitted', '2026-03-02')));
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_eq(err ->> 'message',
        'You have already submitted a check-in for 2026-03-02. Choose another date_submitted.');
    PERFORM tests.assert_eq(err #>> '{detail,field}', 'date_submitted');
    PERFORM tests.assert_eq(err #>> '{detail,existing_checkin,mood_today}', 'busy');
    body := api.v1_update_checkin(jsonb_build_object('id', a_id, 'date_submitted', '2026-02-28',
        'checkin_type', 'enhanced'));
    PERFORM tests.assert_eq(body #>> '{checkin,date_submitted}', '2026-02-28');
    PERFORM tests.assert_eq(body #>> '{checkin,checkin_type}', 'enhanced');

    -- delete: the date is free again; a second delete is 404
    PERFORM tests.assert_json_eq(api.v1_delete_checkin(jsonb_build_object('id', a_id)),
        '{"success": true, "message": "Check-in deleted successfully"}');
    PERFORM tests.assert_raises(format('SELECT api.v1_delete_checkin(%L)', jsonb_build_object('id', a_id)), 'NV404');
    PERFORM api.v1_create_checkin('{"mood_today": "again", "confidence_today": 5, "date_submitted": "2026-02-28"}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT string_agg(l.op, ',' ORDER BY l.position) FROM public.legacy_checkin_changes AS l
            WHERE l.checkin_id = a_id::uuid),
        'insert,update,update,delete', 'each real write logged once (the no-op update is not a write)'
    );
END
$$;

-- The same calls in V1 and in V2 mode give the same bodies and errors (ids, user and instants aside).
CREATE OR REPLACE FUNCTION tests.test_v1_answers_like_v2()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    step record;
    v1 jsonb;
    v2 jsonb;
    ids jsonb := '{}';
    args jsonb;
BEGIN
    PERFORM tests.make_user('one@example.com');
    PERFORM tests.make_user('two@example.com');
    FOR step IN
        SELECT s.n, s.fn, s.args, s.ref, s.expect
        FROM (VALUES
            (1, 'create_checkin', tests.v1_payload(), 'a', 'ok'),
            (2, 'create_checkin', tests.v1_payload(), NULL, 'NV409'),
            (3, 'create_enhanced_checkin', '{"mood_today": "good", "confidence_today": 8, "date_submitted":
                "2026-01-16", "sentiment_analysis": {"sentiment": "positive"}}'::jsonb, 'b', 'ok'),
            (4, 'create_checkin', '{"mood_today": "x"}'::jsonb, NULL, 'NV400'),
            (5, 'create_checkin', '{"mood_today": "x", "confidence_today": 5, "missed_doses": 51}'::jsonb, NULL,
                'NV400'),
            (6, 'list_checkins', '{}'::jsonb, NULL, 'ok'),
            (7, 'list_checkins', '{"limit": 1}'::jsonb, NULL, 'ok'),
            (8, 'list_checkins', '{"limit": 101}'::jsonb, NULL, 'NV400'),
            (9, 'today_checkin', '{}'::jsonb, NULL, 'ok'),
            (10, 'last_values', '{}'::jsonb, NULL, 'ok'),
            (11, 'get_checkin', '{"id": "@a"}'::jsonb, NULL, 'ok'),
            (12, 'get_checkin', '{"id": "zz"}'::jsonb, NULL, 'NV404'),
            (13, 'update_checkin', '{"id": "@a", "anxiety_level": null, "new_extra": [1]}'::jsonb, NULL, 'ok'),
            (14, 'update_checkin', '{"id": "@a", "date_submitted": "2026-01-16"}'::jsonb, NULL, 'NV409'),
            (15, 'update_checkin', '{"id": "@a", "injection_confidence": true}'::jsonb, NULL, 'NV400'),
            (16, 'update_checkin', '{"id": "@a", "phq4_feeling_down": 0}'::jsonb, NULL, 'ok'),
            (17, 'delete_checkin', '{"id": "@b"}'::jsonb, NULL, 'ok'),
            (18, 'update_checkin', '{"id": "@a", "date_submitted": "2026-01-16"}'::jsonb, NULL, 'ok'),
            (19, 'delete_checkin', '{"id": "@b"}'::jsonb, NULL, 'NV404'),
            (20, 'get_checkin', '{"id": "@a"}'::jsonb, NULL, 'ok'),
            (21, 'list_checkins', '{}'::jsonb, NULL, 'ok')
        ) AS s (n, fn, args, ref, expect)
        ORDER BY s.n
    LOOP
        args := step.args;
        IF args ->> 'id' LIKE '@%' THEN
            v1 := args || jsonb_build_object('id', ids -> ('v1' || substr(args ->> 'id', 2)));
            v2 := args || jsonb_build_object('id', ids -> ('v2' || substr(args ->> 'id', 2)));
        ELSE
            v1 := args;
            v2 := args;
        END IF;
        v1 := tests.v1_call(TRUE, 'one@example.com', step.fn, v1);
        v2 := tests.v1_call(FALSE, 'two@example.com', step.fn, v2);
        IF step.ref IS NOT NULL THEN
            ids := ids || jsonb_build_object('v1' || step.ref, v1 #>> '{checkin,id}', 'v2' || step.ref,
                v2 #>> '{checkin,id}');
        END IF;
        PERFORM tests.assert_eq(coalesce(v1 ->> 'state', 'ok'), step.expect, 'step ' || step.n || ' outcome');
        PERFORM tests.assert_json_eq(tests.v1_norm_body(v1), tests.v1_norm_body(v2),
            'step ' || step.n || ' ' || step.fn || ': V1 mode vs V2');
    END LOOP;
END
$$;

-- V1 mode reads and writes only daily_checkins (+ its change log): it keeps working when the event log
-- side is unusable. So do the V2 reads of check-ins, which read the same read model.
CREATE OR REPLACE FUNCTION tests.test_v1_mode_never_touches_the_event_log()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    c_id text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    REVOKE ALL ON public.health_events FROM novara_definer;
    REVOKE ALL ON public.health_events_live, public.daily_checkins_legacy FROM novara_definer;
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM tests.assert_raises($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5}')$q$,
        '42501', NULL, 'V2 is broken');
    c_id := api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5}') #>> '{checkin,id}';
    PERFORM api.v1_create_enhanced_checkin('{"mood_today": "ok", "confidence_today": 5,
        "date_submitted": "2026-01-01"}');
    PERFORM api.v1_update_checkin(jsonb_build_object('id', c_id, 'confidence_today', 6));
    PERFORM tests.assert_eq(api.v1_get_checkin(jsonb_build_object('id', c_id)) #> '{checkin,confidence_today}',
        '6'::jsonb);
    PERFORM tests.assert_eq(api.v1_list_checkins() -> 'count', '2'::jsonb);
    PERFORM tests.assert_eq(api.v1_today_checkin() -> 'hasCheckedIn', 'true'::jsonb);
    PERFORM tests.assert_eq(api.v1_last_values() -> 'hasValues', 'true'::jsonb);
    PERFORM tests.assert_json_eq(api.list_checkins(), api.v1_list_checkins(), 'the V2 read reads the same');
    PERFORM api.v1_delete_checkin(jsonb_build_object('id', c_id));
    PERFORM tests.assert_eq(api.v1_list_checkins() -> 'count', '1'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_v1_function_definitions()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    f record;
    n integer := 0;
BEGIN
    FOR f IN
        SELECT p.proname, p.provolatile, p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
            p.oid::regprocedure::text AS sig
        FROM pg_proc AS p
        WHERE p.pronamespace = 'api'::regnamespace AND p.proname LIKE 'v1\_%'
    LOOP
        n := n + 1;
        PERFORM tests.assert_eq(f.sig, 'api.' || f.proname || '(jsonb)', 'signature');
        PERFORM tests.assert_true(f.prosecdef, f.proname || ' is SECURITY DEFINER');
        PERFORM tests.assert_eq(f.owner, 'novara_definer', f.proname || ' owner');
        PERFORM tests.assert_eq(f.proconfig, ARRAY['search_path=pg_catalog'], f.proname || ' search_path');
        PERFORM tests.assert_eq(f.provolatile::text,
            CASE WHEN f.proname IN ('v1_list_checkins', 'v1_today_checkin', 'v1_last_values', 'v1_get_checkin')
                THEN 's' ELSE 'v' END, f.proname || ' volatility');
        PERFORM tests.assert_true(has_function_privilege('novara_api', f.sig, 'EXECUTE'), f.proname || ' callable');
        PERFORM tests.assert_true(obj_description(f.sig::regprocedure, 'pg_proc') IS NOT NULL, f.proname || ' comment');
    END LOOP;
    PERFORM tests.assert_eq(n, 8, 'eight V1-mode functions');
    -- The change log is internal: the gateway role has no privilege on it.
    PERFORM tests.assert_true(NOT has_table_privilege('novara_api', 'public.legacy_checkin_changes', 'SELECT'),
        'novara_api cannot read the change log');
    PERFORM tests.assert_true(NOT has_function_privilege('novara_api',
        'core.sync_legacy_checkins(uuid, integer)', 'EXECUTE'), 'nor run the import');
    PERFORM tests.assert_true(
        (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_class AS c
            WHERE c.oid = 'public.legacy_checkin_changes'::regclass), 'row-level security forced on the log'
    );
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM tests.assert_raises('SELECT count(*) FROM public.legacy_checkin_changes', '42501');
END
$$;
