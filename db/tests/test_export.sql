-- The right of access and portability: api.export_me (the person) and core.export_user (a DBA).

CREATE OR REPLACE FUNCTION tests.test_export_holds_everything_of_the_caller_and_nothing_else()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := (api.signup('{"email": "ann@example.com", "nickname": "Ann"}') #>> '{user,id}')::uuid;
    bob uuid := (api.signup('{"email": "bob@example.com", "nickname": "Bob"}') #>> '{user,id}')::uuid;
    kept text;
    gone text;
    doc jsonb;
BEGIN
    PERFORM tests.as_user('bob@example.com');
    PERFORM api.create_checkin('{"mood_today": "tired", "confidence_today": 3, "user_note": "bob only"}');
    PERFORM tests.as_user('ann@example.com');
    kept := api.create_checkin(
        '{"mood_today": "hopeful", "confidence_today": 7, "date_submitted": "2026-11-01", "side_effects": ["x"]}'
    ) #>> '{checkin,id}';
    PERFORM api.update_checkin(jsonb_build_object('id', kept, 'confidence_today', 8, 'wish_knew_more_about', '[]'::jsonb));
    gone := api.create_checkin('{"mood_today": "tired", "confidence_today": 2, "date_submitted": "2026-11-02"}')
        #>> '{checkin,id}';
    PERFORM api.delete_checkin(jsonb_build_object('id', gone));
    PERFORM tests.add_event('sleep', '{"hours": 7}', '2026-11-03T08:00:00Z');
    PERFORM api.record_engagement('{"insight_type": "no_data", "action": "viewed", "insight_id": "no_data_1"}');

    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    doc := api.export_me('{}');
    PERFORM tests.as_superuser();

    PERFORM tests.assert_eq(doc -> 'success', 'true'::jsonb, 'success');
    doc := doc -> 'export';
    PERFORM tests.assert_eq(doc #>> '{user,id}', ann::text, 'the caller');
    PERFORM tests.assert_eq(doc #>> '{user,email}', 'ann@example.com', 'email');
    PERFORM tests.assert_eq(doc #>> '{profile,nickname}', 'Ann', 'profile');
    -- live check-ins only, every field, the corrected values
    PERFORM tests.assert_eq(jsonb_array_length(doc -> 'checkins'), 1, 'one live check-in');
    PERFORM tests.assert_eq(doc #>> '{checkins,0,id}', kept, 'the kept one');
    PERFORM tests.assert_eq(doc #> '{checkins,0,confidence_today}', '8'::jsonb, 'corrected value');
    PERFORM tests.assert_eq(doc #> '{checkins,0,side_effects}', '["x"]'::jsonb, 'array field');
    PERFORM tests.assert_eq(doc #> '{checkins,0,wish_knew_more_about}', '[]'::jsonb, 'empty array kept');
    PERFORM tests.assert_eq(doc #>> '{checkins,0,date_submitted}', '2026-11-01', 'date');
    -- the whole history: the corrections and the retraction are there, in log order
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM jsonb_array_elements(doc -> 'events') AS e WHERE e ->> 'action' = 'retract') > 0,
        TRUE, 'retractions kept'
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM jsonb_array_elements(doc -> 'events') AS e WHERE e ->> 'action' = 'correct') > 0,
        TRUE, 'corrections kept'
    );
    PERFORM tests.assert_eq(
        jsonb_array_length(doc -> 'events')::bigint,
        (SELECT count(*) FROM public.health_events AS e WHERE e.user_id = ann), 'every event'
    );
    PERFORM tests.assert_eq(
        (SELECT array_agg((e ->> 'position')::bigint) = array_agg((e ->> 'position')::bigint ORDER BY
            (e ->> 'position')::bigint) FROM jsonb_array_elements(doc -> 'events') AS e), TRUE, 'log order'
    );
    PERFORM tests.assert_eq(jsonb_array_length(doc -> 'engagement'), 1, 'engagement');
    PERFORM tests.assert_eq(jsonb_typeof(doc -> 'insights'), 'array', 'insights');
    PERFORM tests.assert_eq(jsonb_typeof(doc -> 'feedback'), 'array', 'feedback');
    PERFORM tests.assert_true(doc ->> 'generated_at' ~ '^\d{4}-\d\d-\d\dT', 'generated_at');
    -- nothing of Bob's anywhere in the document
    PERFORM tests.assert_true(strpos(doc::text, bob::text) = 0, 'no row of another user');
    PERFORM tests.assert_true(strpos(doc::text, 'bob only') = 0, 'no value of another user');
    PERFORM tests.assert_true(strpos(doc::text, 'bob@example.com') = 0, 'no email of another user');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_dba_export_is_the_same_document_and_is_recorded()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := (api.signup('{"email": "ann@example.com"}') #>> '{user,id}')::uuid;
    mine jsonb;
    dba jsonb;
BEGIN
    PERFORM tests.as_user('ann@example.com');
    PERFORM api.create_checkin('{"mood_today": "hopeful", "confidence_today": 7}');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    mine := api.export_me('{}');
    PERFORM tests.as_superuser();
    PERFORM set_config('request.jwt.claims', '', TRUE);
    dba := core.export_user(ann, 'request by mail');
    PERFORM tests.assert_json_eq(dba #- '{export,generated_at}', mine #- '{export,generated_at}', 'same document');
    PERFORM tests.assert_eq(current_setting('request.jwt.claims', TRUE), '', 'claims restored');
    PERFORM tests.assert_eq(
        (SELECT l.reader || ' ' || l.relation || ' ' || l.via FROM public.data_access_log AS l
         WHERE l.subject_id = ann),
        session_user || ' core.export_user core.export_user: request by mail', 'the read is recorded'
    );
    PERFORM tests.assert_raises(format('SELECT core.export_user(%L)', gen_random_uuid()), 'NV404', 'User not found');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_export_after_erasure_is_not_found()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := (api.signup('{"email": "ann@example.com"}') #>> '{user,id}')::uuid;
BEGIN
    PERFORM tests.as_user('ann@example.com');
    PERFORM api.create_checkin('{"mood_today": "hopeful", "confidence_today": 7}');
    PERFORM tests.assert_eq(jsonb_array_length(api.export_me('{}') #> '{export,checkins}'), 1, 'before');
    PERFORM core.erase_user(ann, 'asked');
    PERFORM tests.as_user('ann@example.com');
    PERFORM tests.assert_raises('SELECT api.export_me(''{}'')', 'NV404', 'User not found');
    PERFORM tests.assert_raises(format('SELECT core.export_user(%L)', ann), 'NV404', 'User not found');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events AS e WHERE e.user_id = ann), 0::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_export_rights_follow_erasure()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['public', 'novara_api', 'novara_definer', 'novara_analyst'] LOOP
        PERFORM tests.assert_eq(has_function_privilege(r, 'core.export_user(uuid, text)', 'EXECUTE'), FALSE, r);
        PERFORM tests.assert_eq(
            has_function_privilege(r, 'core.export_user(uuid, text)', 'EXECUTE'),
            has_function_privilege(r, 'core.erase_user(uuid, text)', 'EXECUTE'), 'same rights as erasure: ' || r
        );
    END LOOP;
    PERFORM tests.assert_eq(has_function_privilege('novara_api', 'api.export_me(jsonb)', 'EXECUTE'), TRUE, 'api');
    PERFORM tests.assert_eq(has_function_privilege('novara_analyst', 'core.user_export(uuid)', 'EXECUTE'), FALSE);
    PERFORM tests.assert_eq(has_function_privilege('novara_api', 'core.user_export(uuid)', 'EXECUTE'), FALSE);
END
$$;
