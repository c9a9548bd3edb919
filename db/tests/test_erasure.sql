-- Right to be forgotten (core.erase_user) and the append-only guard of health_events.

-- Some rows of every per-user kind for a user (inserted directly, as the superuser).
CREATE OR REPLACE FUNCTION tests.er_seed(uid uuid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    first_event uuid;
BEGIN
    INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
    VALUES (uid, 'note', '{"text": "secret"}', now(), current_date)
    RETURNING id INTO first_event;
    INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date, action,
        related_event_id)
    VALUES (uid, 'note', '{"text": "corrected secret"}', now(), current_date, 'correct', first_event);
    INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
    VALUES (uid, 'mood', '{"mood": "hopeful"}', now(), current_date - 1);
    INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today)
    VALUES (uid, current_date, 'hopeful', 7), (uid, current_date - 1, 'tired', 4);
    INSERT INTO public.insights (user_id, insight_type, title, message, local_date)
    VALUES (uid, 'encouragement', 'Keep going', 'You are doing well', current_date);
END
$$;

-- Rows of a user in each per-user table, as text "events/daily/insights/profiles/users".
CREATE OR REPLACE FUNCTION tests.er_counts(uid uuid)
RETURNS text
LANGUAGE sql
AS $$
    SELECT concat_ws('/',
        (SELECT count(*) FROM public.health_events AS e WHERE e.user_id = uid),
        (SELECT count(*) FROM public.daily_checkins AS d WHERE d.user_id = uid),
        (SELECT count(*) FROM public.insights AS i WHERE i.user_id = uid),
        (SELECT count(*) FROM public.user_profiles AS p WHERE p.user_id = uid),
        (SELECT count(*) FROM public.users AS u WHERE u.id = uid))
$$;

CREATE OR REPLACE FUNCTION tests.test_erase_user_removes_everything()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := (api.signup('{"email": "erase.me@example.com", "nickname": "Zed"}') #>> '{user,id}')::uuid;
    b uuid := (api.signup('{"email": "keep.me@example.com", "nickname": "Kay"}') #>> '{user,id}')::uuid;
    r jsonb;
    log public.erasure_log%ROWTYPE;
BEGIN
    PERFORM tests.er_seed(a);
    PERFORM tests.er_seed(b);
    PERFORM tests.assert_eq(tests.er_counts(a), '3/2/1/1/1', 'seeded');
    PERFORM tests.as_user('someone@example.com');

    r := core.erase_user(a, 'user request #123');

    PERFORM tests.assert_json_eq(r - 'erasure_log_id', '{"success": true, "events_deleted": 3,
        "daily_checkins_deleted": 2, "insights_deleted": 1, "insight_engagement_deleted": 0,
        "insight_feedback_deleted": 0, "profiles_deleted": 1, "users_deleted": 1}');
    PERFORM tests.assert_eq(tests.er_counts(a), '0/0/0/0/0', 'nothing of A is left');
    PERFORM tests.assert_eq(tests.er_counts(b), '3/2/1/1/1', 'B untouched');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS e WHERE e.event_data::text LIKE '%secret%'), 2::bigint,
        'only B''s secrets remain'
    );

    SELECT l.* INTO log FROM public.erasure_log AS l WHERE l.id = (r ->> 'erasure_log_id')::bigint;
    PERFORM tests.assert_eq(log.user_id_sha256, encode(sha256(convert_to(a::text, 'UTF8')), 'hex'), 'hashed id');
    PERFORM tests.assert_true(log.user_id_sha256 ~ '^[0-9a-f]{64}$', 'sha256 hex');
    PERFORM tests.assert_eq(log.reason, 'user request #123', 'reason');
    PERFORM tests.assert_eq(log.performed_by, current_user::text, 'performed_by');
    PERFORM tests.assert_eq(
        array[log.events_deleted, log.checkins_deleted, log.insights_deleted], array[3, 2, 1], 'logged counts'
    );
    PERFORM tests.assert_eq(log.erased_at, now(), 'erased_at');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.erasure_log), 1::bigint, 'one audit row');
    PERFORM tests.assert_true(
        (SELECT row_to_json(l)::text FROM public.erasure_log AS l) NOT LIKE '%erase.me%'
        AND (SELECT row_to_json(l)::text FROM public.erasure_log AS l) NOT LIKE '%' || a::text || '%',
        'no email and no raw id in the audit row'
    );
    -- the settings are back: erasure off, the caller's claims restored
    PERFORM tests.assert_eq(current_setting('novara.erasure', true), 'off', 'erasure switched off');
    PERFORM tests.assert_eq(core.claim_email(), 'someone@example.com', 'claims restored');
    PERFORM tests.assert_raises('DELETE FROM public.health_events', 'NV403', '%append-only%',
        'the log is append-only again after the erasure');
    -- the email is free again
    PERFORM tests.assert_eq(api.signup('{"email": "erase.me@example.com"}') #>> '{user,nickname}', NULL, 'new signup');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_erase_user_without_data_and_unknown_user()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := (api.signup('{"email": "bare@example.com"}') #>> '{user,id}')::uuid;
BEGIN
    PERFORM tests.assert_json_eq(core.erase_user(a) - 'erasure_log_id', '{"success": true, "events_deleted": 0,
        "daily_checkins_deleted": 0, "insights_deleted": 0, "insight_engagement_deleted": 0,
        "insight_feedback_deleted": 0, "profiles_deleted": 1, "users_deleted": 1}');
    PERFORM tests.assert_eq((SELECT l.reason FROM public.erasure_log AS l), NULL, 'no reason given');
    PERFORM tests.assert_raises(format('SELECT core.erase_user(%L)', a), 'NV404', 'User not found', 'twice');
    PERFORM tests.assert_raises('SELECT core.erase_user(gen_random_uuid())', 'NV404', 'User not found');
    PERFORM tests.assert_raises('SELECT core.erase_user(NULL)', 'NV404', 'User not found');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.erasure_log), 1::bigint, 'failed erasures log nothing');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_health_events_append_only_even_for_superuser()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := (api.signup('{"email": "log@example.com"}') #>> '{user,id}')::uuid;
BEGIN
    PERFORM tests.assert_true((SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user), 'superuser');
    INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
    VALUES (a, 'note', '{"text": "secret"}', now(), current_date);
    PERFORM tests.assert_raises($q$UPDATE public.health_events SET event_data = '{"text": "x"}'$q$, 'NV403',
        'health_events is append-only: UPDATE is not allowed');
    PERFORM tests.assert_raises('DELETE FROM public.health_events', 'NV403',
        'health_events is append-only: DELETE is not allowed');
    PERFORM tests.assert_raises('TRUNCATE public.health_events', 'NV403',
        'health_events is append-only: TRUNCATE is not allowed');
    PERFORM tests.assert_raises('TRUNCATE public.health_events CASCADE', 'NV403');
    -- deleting the account does not get around it (the cascade to health_events is refused too)
    PERFORM tests.assert_raises(format('DELETE FROM public.users WHERE id = %L', a), 'NV403');
    -- the erasure switch lets DELETE through, never UPDATE or TRUNCATE
    PERFORM set_config('novara.erasure', 'on', true);
    PERFORM tests.assert_raises($q$UPDATE public.health_events SET event_data = '{"text": "x"}'$q$, 'NV403');
    PERFORM tests.assert_raises('TRUNCATE public.health_events', 'NV403');
    PERFORM set_config('novara.erasure', 'off', true);
    PERFORM tests.assert_eq(
        (SELECT e.event_data ->> 'text' FROM public.health_events AS e), 'secret', 'the event is intact'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_erase_user_privileges()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := (api.signup('{"email": "priv@example.com"}') #>> '{user,id}')::uuid;
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['public', 'novara_api', 'novara_definer', 'novara_analyst'] LOOP
        PERFORM tests.assert_true(NOT has_function_privilege(r, 'core.erase_user(uuid,text)', 'EXECUTE'), r);
    END LOOP;
    PERFORM tests.as_gateway('{"email": "priv@example.com"}');
    BEGIN
        PERFORM core.erase_user(a);
        PERFORM tests.fail('novara_api could erase');
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    PERFORM set_config('role', 'novara_definer', true);
    BEGIN
        PERFORM core.erase_user(a);
        PERFORM tests.fail('novara_definer could erase');
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    PERFORM set_config('role', 'none', true);
    PERFORM tests.assert_eq(tests.er_counts(a), '0/0/0/1/1', 'still there');
    PERFORM tests.assert_true(
        obj_description('core.erase_user(uuid,text)'::regprocedure, 'pg_proc') LIKE '%next refresh%',
        'comment says when the metrics views forget the user'
    );
END
$$;

-- A DBA who is not a superuser (managed PostgreSQL): row-level security is forced on the tables, yet the
-- erasure sees and removes the user's rows, because it names the user in the claims for its transaction.
CREATE OR REPLACE FUNCTION tests.test_erase_user_as_non_superuser_dba()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    dba text := 'novara_test_dba_' || substr(md5(random()::text), 1, 10);
    a uuid := (api.signup('{"email": "managed@example.com"}') #>> '{user,id}')::uuid;
    b uuid := (api.signup('{"email": "other@example.com"}') #>> '{user,id}')::uuid;
    r jsonb;
BEGIN
    PERFORM tests.er_seed(a);
    PERFORM tests.er_seed(b);
    EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS', dba);
    EXECUTE format('GRANT USAGE ON SCHEMA core TO %I', dba);
    EXECUTE format('GRANT EXECUTE ON FUNCTION core.erase_user(uuid, text), core.fail(integer, text, text, jsonb), '
        'core.claims(), core.claim_id(), core.claim_email(), core.current_user_id() TO %I', dba);
    EXECUTE format('GRANT SELECT, UPDATE, DELETE ON public.users, public.user_profiles, public.health_events, '
        'public.daily_checkins, public.insights, public.insight_engagement, '
        'public.insight_feedback TO %I', dba);
    EXECUTE format('GRANT SELECT, INSERT ON public.erasure_log TO %I', dba);
    -- erasure names the user in the claims: the policies that honour claims apply to the identity-carrying
    -- roles only, so the DBA who erases is a member of novara_api (as the owner login is)
    EXECUTE format('GRANT novara_api TO %I', dba);
    PERFORM set_config('request.jwt.claims', '', true);
    PERFORM set_config('role', dba, true);
    r := core.erase_user(a, 'managed');
    PERFORM set_config('role', 'none', true);
    PERFORM tests.assert_eq(
        array[(r ->> 'events_deleted')::int, (r ->> 'daily_checkins_deleted')::int, (r ->> 'insights_deleted')::int,
            (r ->> 'users_deleted')::int],
        array[3, 2, 1, 1], 'counts seen through row-level security'
    );
    PERFORM tests.assert_eq(tests.er_counts(a), '0/0/0/0/0', 'A gone');
    PERFORM tests.assert_eq(tests.er_counts(b), '3/2/1/1/1', 'B untouched');
    PERFORM tests.assert_eq((SELECT l.performed_by FROM public.erasure_log AS l), dba, 'performed_by the DBA');
    EXECUTE format('DROP OWNED BY %I', dba);
    EXECUTE format('DROP ROLE %I', dba);
END
$$;
