-- Accounts: signup, login, me, profile, profile updates, baseline, cycle stage,
-- medication status. Route functions are called as the gateway role (novara_api) with the claims the
-- gateway would set, so row-level security is in force; table checks run as the superuser.

-- Assert a 400 naming a field: SQLSTATE NV400, exact message, code VALIDATION_ERROR, detail.field.
CREATE OR REPLACE FUNCTION tests.acc_assert_400(stmt text, message text, field text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    e jsonb := tests.error_of(stmt);
BEGIN
    PERFORM tests.assert_json_eq(
        e, jsonb_build_object(
            'state', 'NV400', 'message', message,
            'detail', jsonb_build_object('code', 'VALIDATION_ERROR', 'field', field)
            || CASE WHEN e #> '{detail,allowed}' IS NOT NULL
                THEN jsonb_build_object('allowed', e #> '{detail,allowed}') ELSE '{}'::jsonb END
        ), stmt
    );
END
$$;

-- Create a user through the route as the gateway role would; returns its id (claims now name it).
CREATE OR REPLACE FUNCTION tests.acc_signup(body jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.as_gateway();
    r := api.signup(body);
    PERFORM tests.as_superuser();
    RETURN (r #>> '{user,id}')::uuid;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_creates_account_and_profile()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
    uid uuid;
BEGIN
    PERFORM tests.as_gateway();
    r := api.signup('{"email": "  Ann@Example.COM ", "nickname": "  Ann ", "confidence_meds": 3,
        "confidence_costs": "8", "confidence_overall": 6, "timezone": "Europe/Paris", "email_opt_in": false,
        "primary_need": "medication", "cycle_stage": "stimulation", "top_concern": "costs",
        "medication_status": "taking", "onboarding_path": "test", "user_id": "00000000-0000-0000-0000-000000000001",
        "favourite_colour": "blue"}');
    -- the claims now name the new account (transaction-local), so it reads its own rows
    PERFORM tests.assert_eq(core.claim_email(), 'ann@example.com', 'signup sets the claims');
    PERFORM tests.assert_eq(r -> 'user', api.me() -> 'user', 'me agrees with signup');
    PERFORM tests.as_superuser();

    uid := (r #>> '{user,id}')::uuid;
    PERFORM tests.assert_true(uid <> '00000000-0000-0000-0000-000000000001'::uuid, 'user_id in args ignored');
    PERFORM tests.assert_true((r #>> '{user,created_at}') ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$',
        'created_at is ISO 8601 with offset');
    PERFORM tests.assert_json_eq(r, jsonb_build_object('success', TRUE, 'user', jsonb_build_object(
        'id', uid, 'email', 'ann@example.com', 'nickname', 'Ann', 'timezone', 'Europe/Paris',
        'email_opt_in', FALSE, 'status', 'active', 'confidence_meds', 3, 'confidence_costs', 8,
        'confidence_overall', 6, 'primary_need', 'medication', 'cycle_stage', 'stimulation',
        'top_concern', 'costs', 'medication_status', 'taking', 'onboarding_path', 'test',
        'baseline_completed', TRUE, 'created_at', r #>> '{user,created_at}')));
    PERFORM tests.assert_eq((SELECT count(*) FROM public.users), 1::bigint, 'one account');
    PERFORM tests.assert_eq(
        (SELECT row(p.nickname, p.timezone, p.confidence_costs::int, p.cycle_stage_updated IS NOT NULL,
            p.medication_status_updated IS NOT NULL)::text
         FROM public.user_profiles AS p WHERE p.user_id = uid),
        '(Ann,Europe/Paris,8,t,t)', 'profile row stored');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_defaults()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.as_gateway();
    r := api.signup('{"email": "bo@example.com", "confidence_meds": null, "nickname": "", "cycle_stage": ""}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_json_eq((r -> 'user') - 'id' - 'created_at', '{"email": "bo@example.com", "nickname": null,
        "timezone": "America/Los_Angeles", "email_opt_in": true, "status": "active", "confidence_meds": 5,
        "confidence_costs": 5, "confidence_overall": 5, "primary_need": null, "cycle_stage": null,
        "top_concern": null, "medication_status": null, "onboarding_path": null, "baseline_completed": false}');
    PERFORM tests.assert_eq(
        (SELECT p.cycle_stage_updated FROM public.user_profiles AS p), NULL::timestamptz, 'no stage, no stamp'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_email_validation()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    long_local text := repeat('a', 245);
BEGIN
    PERFORM tests.as_gateway();
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup()$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup(NULL)$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": null}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": ""}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "  \t "}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": 42}')$q$, 'Invalid email format', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": ["a@b.io"]}')$q$, 'Invalid email format', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "nope"}')$q$, 'Invalid email format', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "a@b"}')$q$, 'Invalid email format', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "a b@c.io"}')$q$, 'Invalid email format', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "a@@c.io"}')$q$, 'Invalid email format', 'email');
    -- 245 + "@example.com" = 257 characters, well-formed
    PERFORM tests.acc_assert_400(
        format($q$SELECT api.signup('{"email": "%s@example.com"}')$q$, long_local), 'Email address too long', 'email'
    );
    -- 242 + 12 = 254 is accepted; surrounding whitespace (tabs, newlines) is trimmed
    PERFORM tests.assert_eq(
        api.signup(format('{"email": "\t %s@EXAMPLE.com\n"}', repeat('b', 242))::jsonb) #>> '{user,email}',
        repeat('b', 242) || '@example.com', '254 characters accepted, trimmed and lower-cased'
    );
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.users), 1::bigint, 'only the valid signup wrote');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_duplicate_email()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.acc_signup('{"email": "cat@example.com"}');
    PERFORM tests.as_gateway();
    PERFORM tests.assert_json_eq(tests.error_of($q$SELECT api.signup('{"email": "cat@example.com"}')$q$),
        '{"state": "NV409", "message": "User already exists", "detail": {"code": "USER_EXISTS"}}', 'same email');
    PERFORM tests.assert_raises($q$SELECT api.signup('{"email": "  CAT@Example.Com  "}')$q$,
        'NV409', 'User already exists', 'different case and whitespace');
    -- a bad body is a 400 even when the email is taken (validated before the account is created)
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "cat@example.com", "confidence_meds": 11}')$q$,
        'confidence_meds must be between 1 and 10', 'confidence_meds');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.users), 1::bigint, 'one account');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_profiles), 1::bigint, 'one profile');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_invalid_profile_writes_nothing()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.as_gateway();
    PERFORM tests.acc_assert_400(
        format($q$SELECT api.signup('{"email": "dee@example.com", "nickname": "%s"}')$q$, repeat('n', 51)),
        'Nickname too long (max 50 characters)', 'nickname'
    );
    PERFORM tests.acc_assert_400(
        $q$SELECT api.signup('{"email": "dee@example.com", "timezone": "Mars/Olympus_Mons"}')$q$,
        'timezone must be an IANA time zone name such as America/Los_Angeles (got ''Mars/Olympus_Mons'')', 'timezone'
    );
    PERFORM tests.acc_assert_400($q$SELECT api.signup('{"email": "dee@example.com", "cycle_stage": "done"}')$q$,
        'cycle_stage must be one of: considering, ivf_prep, stimulation, retrieval, transfer, tww, pregnant, '
        'between_cycles', 'cycle_stage');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.users), 0::bigint, 'no account');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_profiles), 0::bigint, 'no profile');
    -- 50 characters after trimming is fine
    PERFORM tests.as_gateway();
    PERFORM tests.assert_eq(
        api.signup(jsonb_build_object('email', 'dee@example.com', 'nickname', ' ' || repeat('n', 50) || ' '))
        #>> '{user,nickname}', repeat('n', 50), 'nickname of 50 characters'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_profile_field_validation()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "eve@example.com", "nickname": "Eve", "timezone": "Asia/Tokyo"}');
    before jsonb;
BEGIN
    before := core.user_json(uid);
    PERFORM tests.as_gateway('{"email": "eve@example.com"}');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_me('{"nickname": "%s"}')$q$, repeat('x', 51)),
        'Nickname too long (max 50 characters)', 'nickname');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"nickname": 5}')$q$, 'nickname must be a string', 'nickname');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"confidence_meds": 0}')$q$,
        'confidence_meds must be between 1 and 10', 'confidence_meds');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"confidence_costs": 11}')$q$,
        'confidence_costs must be between 1 and 10', 'confidence_costs');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"confidence_overall": 5.5}')$q$,
        'confidence_overall must be an integer', 'confidence_overall');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"confidence_overall": "high"}')$q$,
        'confidence_overall must be an integer', 'confidence_overall');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"confidence_meds": true}')$q$,
        'confidence_meds must be an integer', 'confidence_meds');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"timezone": "Nowhere/Special"}')$q$,
        'timezone must be an IANA time zone name such as America/Los_Angeles (got ''Nowhere/Special'')', 'timezone');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"timezone": "posix/Europe/Paris"}')$q$,
        'timezone must be an IANA time zone name such as America/Los_Angeles (got ''posix/Europe/Paris'')',
        'timezone');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"timezone": 1}')$q$, 'timezone must be a string', 'timezone');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_me('{"timezone": "%s"}')$q$, repeat('z', 65)),
        'timezone must be at most 64 characters', 'timezone');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"email_opt_in": "yes"}')$q$,
        'email_opt_in must be true or false', 'email_opt_in');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"baseline_completed": "true"}')$q$,
        'baseline_completed must be true or false', 'baseline_completed');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"cycle_stage": "Stimulation"}')$q$,
        'cycle_stage must be one of: considering, ivf_prep, stimulation, retrieval, transfer, tww, pregnant, '
        'between_cycles', 'cycle_stage');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"medication_status": "sometimes"}')$q$,
        'medication_status must be one of: taking, starting_soon, not_taking, between_cycles, finished_treatment, '
        'pregnancy_support', 'medication_status');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_me('{"primary_need": "%s"}')$q$, repeat('p', 101)),
        'primary_need must be at most 100 characters', 'primary_need');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_me('{"top_concern": "%s"}')$q$, repeat('t', 201)),
        'top_concern must be at most 200 characters', 'top_concern');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_me('{"onboarding_path": "%s"}')$q$, repeat('o', 101)),
        'onboarding_path must be at most 100 characters', 'onboarding_path');
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"top_concern": ["a"]}')$q$,
        'top_concern must be a string', 'top_concern');
    -- one bad field among good ones: nothing is written
    PERFORM tests.acc_assert_400($q$SELECT api.update_me('{"nickname": "Changed", "confidence_meds": 99}')$q$,
        'confidence_meds must be between 1 and 10', 'confidence_meds');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_json_eq(core.user_json(uid), before, 'profile unchanged after every refused update');
    -- the largest accepted values
    PERFORM tests.as_gateway('{"email": "eve@example.com"}');
    PERFORM api.update_me(jsonb_build_object('primary_need', repeat('p', 100), 'top_concern', repeat('t', 200),
        'onboarding_path', repeat('o', 100), 'confidence_meds', 10, 'confidence_costs', 1));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT char_length(p.top_concern) FROM public.user_profiles AS p), 200, 'max lengths');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_update_me()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.acc_signup('{"email": "fay@example.com", "nickname": "Fay", "primary_need": "info"}');
    b uuid := tests.acc_signup('{"email": "gus@example.com", "nickname": "Gus"}');
    r jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "fay@example.com"}');
    r := api.update_me(jsonb_build_object(
        'nickname', 'Fay B', 'timezone', 'america/new_york', 'confidence_meds', '7', 'confidence_costs', null,
        'email_opt_in', FALSE, 'top_concern', 'side effects', 'medication_status', 'starting_soon',
        'onboarding_path', 'control', 'primary_need', '',
        'email', 'stolen@example.com', 'user_id', b, 'status', 'disabled', 'unknown_key', 1
    ));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(r ->> 'message', 'Profile updated successfully', 'message');
    PERFORM tests.assert_eq(r -> 'success', 'true'::jsonb, 'success');
    PERFORM tests.assert_json_eq((r -> 'user') - 'created_at', jsonb_build_object(
        'id', a, 'email', 'fay@example.com', 'nickname', 'Fay B', 'timezone', 'America/New_York',
        'email_opt_in', FALSE, 'status', 'active', 'confidence_meds', 7, 'confidence_costs', 5,
        'confidence_overall', 5, 'primary_need', NULL, 'cycle_stage', NULL, 'top_concern', 'side effects',
        'medication_status', 'starting_soon', 'onboarding_path', 'control', 'baseline_completed', FALSE));
    PERFORM tests.assert_json_eq(core.user_json(a) - 'created_at', (r -> 'user') - 'created_at', 'stored = returned');
    PERFORM tests.assert_eq((SELECT u.email FROM public.users AS u WHERE u.id = a), 'fay@example.com', 'email kept');
    PERFORM tests.assert_eq((SELECT u.status FROM public.users AS u WHERE u.id = a), 'active', 'status kept');
    PERFORM tests.assert_eq(core.user_json(b) ->> 'nickname', 'Gus', 'user_id in body ignored: B untouched');
    PERFORM tests.assert_true(
        (SELECT p.medication_status_updated = now() FROM public.user_profiles AS p WHERE p.user_id = a),
        'medication_status_updated stamped'
    );
    -- an empty body changes nothing; null clears a nullable field
    PERFORM tests.as_gateway('{"email": "fay@example.com"}');
    PERFORM tests.assert_json_eq(api.update_me() -> 'user', r -> 'user', 'empty body');
    PERFORM tests.assert_eq(api.update_me('{"nickname": null}') #>> '{user,nickname}', NULL, 'null clears');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_baseline_completes_by_itself()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.acc_signup('{"email": "hal@example.com"}');
    PERFORM tests.as_gateway('{"email": "hal@example.com"}');
    PERFORM tests.assert_eq(api.me() #>> '{user,baseline_completed}', 'false', 'new account');
    PERFORM tests.assert_eq(api.update_me('{"nickname": "Hal"}') #>> '{user,baseline_completed}', 'false', 'nick');
    PERFORM tests.assert_eq(api.update_me('{"primary_need": "x"}') #>> '{user,baseline_completed}', 'false', 'need');
    PERFORM tests.assert_eq(
        api.update_me('{"cycle_stage": "ivf_prep"}') #>> '{user,baseline_completed}', 'true', 'all set: complete'
    );
    -- stays complete when a field is cleared later
    PERFORM tests.assert_eq(api.update_me('{"nickname": null}') #>> '{user,baseline_completed}', 'true', 'stays');
    -- an explicit value in the request wins
    PERFORM tests.assert_eq(
        api.update_me('{"nickname": "Hal", "baseline_completed": false}') #>> '{user,baseline_completed}', 'false',
        'explicit false'
    );
    -- at signup, a complete body completes the baseline at once
    PERFORM tests.as_gateway();
    r := api.signup('{"email": "ida@example.com", "nickname": "Ida", "primary_need": "support",
        "cycle_stage": "tww"}');
    PERFORM tests.assert_eq(r #>> '{user,baseline_completed}', 'true', 'complete signup');
    r := api.signup('{"email": "jo@example.com", "nickname": "Jo", "primary_need": "support"}');
    PERFORM tests.assert_eq(r #>> '{user,baseline_completed}', 'false', 'no cycle stage');
    r := api.signup('{"email": "kim@example.com", "baseline_completed": true}');
    PERFORM tests.assert_eq(r #>> '{user,baseline_completed}', 'true', 'explicit true at signup');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_update_baseline()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "lea@example.com"}');
    r jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "lea@example.com"}');
    r := api.update_baseline('{"nickname": "Lea", "confidence_meds": 2, "confidence_costs": "3",
        "confidence_overall": 4, "top_concern": "money", "primary_need": "plan", "user_id": null}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(r ->> 'message', 'Baseline data updated successfully', 'message');
    PERFORM tests.assert_eq(r -> 'success', 'true'::jsonb, 'success');
    PERFORM tests.assert_json_eq(
        jsonb_build_object('nickname', r #> '{user,nickname}', 'confidence_meds', r #> '{user,confidence_meds}',
            'confidence_costs', r #> '{user,confidence_costs}', 'confidence_overall', r #> '{user,confidence_overall}',
            'top_concern', r #> '{user,top_concern}', 'primary_need', r #> '{user,primary_need}',
            'baseline_completed', r #> '{user,baseline_completed}', 'id', r #> '{user,id}'),
        jsonb_build_object('nickname', 'Lea', 'confidence_meds', 2, 'confidence_costs', 3, 'confidence_overall', 4,
            'top_concern', 'money', 'primary_need', 'plan', 'baseline_completed', TRUE, 'id', uid)
    );
    PERFORM tests.assert_json_eq(core.user_json(uid), r -> 'user', 'stored as returned');
    PERFORM tests.as_gateway('{"email": "lea@example.com"}');
    PERFORM tests.acc_assert_400($q$SELECT api.update_baseline('{"confidence_overall": 0}')$q$,
        'confidence_overall must be between 1 and 10', 'confidence_overall');
    PERFORM tests.acc_assert_400(format($q$SELECT api.update_baseline('{"nickname": "%s"}')$q$, repeat('y', 60)),
        'Nickname too long (max 50 characters)', 'nickname');
    -- an empty body still marks the baseline complete
    PERFORM api.update_me('{"baseline_completed": false}');
    PERFORM tests.assert_eq(api.update_baseline() #>> '{user,baseline_completed}', 'true', 'empty body');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_cycle_stage_derives_medication_status()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "max@example.com"}');
    expected jsonb := '{"considering": "not_taking", "ivf_prep": "starting_soon", "stimulation": "taking",
        "retrieval": "taking", "transfer": "taking", "tww": "taking", "pregnant": "pregnancy_support",
        "between_cycles": "between_cycles"}';
    stage text;
    r jsonb;
BEGIN
    FOR stage IN SELECT jsonb_object_keys(expected) LOOP
        PERFORM tests.as_gateway('{"email": "max@example.com"}');
        r := api.update_cycle_stage(jsonb_build_object('cycle_stage', stage));
        PERFORM tests.as_superuser();
        PERFORM tests.assert_json_eq(r, jsonb_build_object(
            'success', TRUE, 'message', 'Cycle stage updated successfully', 'cycle_stage', stage,
            'derived_medication_status', expected ->> stage, 'cycle_stage_updated', core.iso(now())), stage);
        PERFORM tests.assert_eq(
            (SELECT p.cycle_stage || '/' || p.medication_status FROM public.user_profiles AS p WHERE p.user_id = uid),
            stage || '/' || (expected ->> stage), 'stored stage and derived status: ' || stage
        );
        PERFORM tests.assert_eq(core.derived_medication_status(stage), expected ->> stage, 'helper: ' || stage);
    END LOOP;
    PERFORM tests.assert_eq(core.derived_medication_status('nonsense'), NULL, 'unknown stage');

    PERFORM tests.as_gateway('{"email": "max@example.com"}');
    PERFORM tests.acc_assert_400($q$SELECT api.update_cycle_stage()$q$, 'cycle_stage is required', 'cycle_stage');
    PERFORM tests.acc_assert_400($q$SELECT api.update_cycle_stage('{"cycle_stage": null}')$q$,
        'cycle_stage is required', 'cycle_stage');
    PERFORM tests.acc_assert_400($q$SELECT api.update_cycle_stage('{"cycle_stage": " "}')$q$,
        'cycle_stage is required', 'cycle_stage');
    PERFORM tests.acc_assert_400($q$SELECT api.update_cycle_stage('{"cycle_stage": "finished"}')$q$,
        'cycle_stage must be one of: considering, ivf_prep, stimulation, retrieval, transfer, tww, pregnant, '
        'between_cycles', 'cycle_stage');
    PERFORM tests.acc_assert_400($q$SELECT api.update_cycle_stage('{"cycle_stage": 3}')$q$,
        'cycle_stage must be one of: considering, ivf_prep, stimulation, retrieval, transfer, tww, pregnant, '
        'between_cycles', 'cycle_stage');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT p.cycle_stage FROM public.user_profiles AS p WHERE p.user_id = uid), 'between_cycles',
        'refused updates wrote nothing'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_stage_timestamps_move_only_on_change()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "ned@example.com", "cycle_stage": "transfer",
        "medication_status": "taking"}');
    old timestamptz := '2020-01-01T00:00:00Z';
    old_iso text := core.iso('2020-01-01T00:00:00Z');
    now_iso text := core.iso(now());
    r jsonb;
BEGIN
    UPDATE public.user_profiles SET cycle_stage_updated = old, medication_status_updated = old WHERE user_id = uid;
    PERFORM tests.as_gateway('{"email": "ned@example.com"}');
    r := api.update_cycle_stage('{"cycle_stage": "transfer"}');
    PERFORM tests.assert_eq(r ->> 'cycle_stage_updated', old_iso, 'same stage: stamp kept');
    r := api.update_medication_status('{"medication_status": "taking"}');
    PERFORM tests.assert_eq(r ->> 'medication_status_updated', old_iso, 'same status: stamp kept');
    r := api.update_me('{"nickname": "Ned"}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT p.cycle_stage_updated FROM public.user_profiles AS p WHERE p.user_id = uid), old, 'other field: kept'
    );
    PERFORM tests.as_gateway('{"email": "ned@example.com"}');
    r := api.update_cycle_stage('{"cycle_stage": "tww"}');
    PERFORM tests.assert_eq(r ->> 'cycle_stage_updated', now_iso, 'new stage: stamped');
    PERFORM tests.as_superuser();
    -- tww derives "taking", which it already was: that stamp stays
    PERFORM tests.assert_eq(
        (SELECT p.medication_status_updated FROM public.user_profiles AS p WHERE p.user_id = uid), old,
        'derived status unchanged: kept'
    );
    PERFORM tests.as_gateway('{"email": "ned@example.com"}');
    r := api.update_cycle_stage('{"cycle_stage": "pregnant"}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT p.medication_status_updated FROM public.user_profiles AS p WHERE p.user_id = uid), now(),
        'derived status changed: stamped'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_update_medication_status()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "ola@example.com", "cycle_stage": "stimulation"}');
    status text;
    r jsonb;
BEGIN
    FOREACH status IN ARRAY ARRAY[
        'taking', 'starting_soon', 'not_taking', 'between_cycles', 'finished_treatment', 'pregnancy_support'
    ] LOOP
        PERFORM tests.as_gateway('{"email": "ola@example.com"}');
        r := api.update_medication_status(jsonb_build_object('medication_status', status));
        PERFORM tests.as_superuser();
        PERFORM tests.assert_json_eq(r, jsonb_build_object(
            'success', TRUE, 'message', 'Medication status updated successfully', 'medication_status', status,
            'medication_status_updated', core.iso(now())), status);
        PERFORM tests.assert_eq(
            (SELECT p.medication_status FROM public.user_profiles AS p WHERE p.user_id = uid), status, 'stored'
        );
    END LOOP;
    PERFORM tests.assert_eq(
        (SELECT p.cycle_stage FROM public.user_profiles AS p WHERE p.user_id = uid), 'stimulation', 'stage untouched'
    );
    PERFORM tests.as_gateway('{"email": "ola@example.com"}');
    PERFORM tests.acc_assert_400($q$SELECT api.update_medication_status('{}')$q$,
        'medication_status is required', 'medication_status');
    PERFORM tests.acc_assert_400($q$SELECT api.update_medication_status('{"medication_status": ""}')$q$,
        'medication_status is required', 'medication_status');
    PERFORM tests.acc_assert_400($q$SELECT api.update_medication_status('{"medication_status": "TAKING"}')$q$,
        'medication_status must be one of: taking, starting_soon, not_taking, between_cycles, finished_treatment, '
        'pregnancy_support', 'medication_status');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_login()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.acc_signup('{"email": "pia@example.com", "nickname": "Pia"}');
    r jsonb;
BEGIN
    PERFORM tests.as_gateway();
    r := api.login('{"email": "  PIA@example.com "}');
    PERFORM tests.assert_eq(r -> 'userExists', 'true'::jsonb, 'userExists');
    PERFORM tests.assert_eq(r -> 'success', 'true'::jsonb, 'success');
    PERFORM tests.assert_eq(r #>> '{user,id}', uid::text, 'the account');
    -- the claims now name the account for the rest of the transaction
    PERFORM tests.assert_json_eq(api.me() -> 'user', r -> 'user', 'me after login');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_json_eq(r -> 'user', core.user_json(uid), 'full user object');

    PERFORM tests.as_gateway();
    PERFORM tests.acc_assert_400($q$SELECT api.login('{}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.login('{"email": ""}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.login('{"email": null}')$q$, 'Email is required', 'email');
    PERFORM tests.acc_assert_400($q$SELECT api.login('{"email": 7}')$q$, 'Invalid email format', 'email');
    PERFORM tests.assert_json_eq(tests.error_of($q$SELECT api.login('{"email": "nobody@example.com"}')$q$),
        '{"state": "NV404", "message": "User not found. Please sign up first.", "detail": {"code": "USER_NOT_FOUND"}}');
    -- other users' claims do not help: login always looks up the email it was given
    PERFORM tests.as_gateway('{"email": "pia@example.com"}');
    PERFORM tests.assert_raises($q$SELECT api.login('{"email": "nobody@example.com"}')$q$, 'NV404');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_claims_email_or_id()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.acc_signup('{"email": "quin@example.com", "nickname": "Quin"}');
    b uuid := tests.acc_signup('{"email": "rae@example.com", "nickname": "Rae"}');
    p jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "quin@example.com", "exp": 9999999999}');
    PERFORM tests.assert_eq(api.me() #>> '{user,id}', a::text, 'email-only token');
    PERFORM tests.as_gateway(jsonb_build_object('id', a, 'email', 'quin@example.com', 'nickname', 'Quin'));
    PERFORM tests.assert_eq(api.me() #>> '{user,id}', a::text, 'issued token');
    PERFORM tests.as_gateway(jsonb_build_object('id', b, 'email', 'quin@example.com'));
    PERFORM tests.assert_eq(api.me() #>> '{user,id}', b::text, 'id wins over email');
    PERFORM tests.as_gateway(jsonb_build_object('id', b));
    p := api.profile();
    PERFORM tests.as_superuser();
    PERFORM tests.assert_json_eq(p, jsonb_build_object('success', TRUE, 'cycle_stage_updated', NULL,
        'medication_status_updated', NULL) || core.user_json(b), 'profile is flat');
    PERFORM tests.assert_eq(p ->> 'nickname', 'Rae', 'profile of B');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_unknown_user_and_no_claims()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    fn text;
BEGIN
    PERFORM tests.acc_signup('{"email": "sam@example.com"}');
    FOREACH fn IN ARRAY ARRAY[
        'me', 'profile', 'update_me', 'update_baseline', 'update_cycle_stage', 'update_medication_status'
    ] LOOP
        PERFORM tests.as_gateway();
        PERFORM tests.assert_json_eq(tests.error_of(format('SELECT api.%I(%L)', fn, '{"cycle_stage": "tww"}')),
            '{"state": "NV401", "message": "Access token required", "detail": {"code": "AUTH_REQUIRED"}}', fn);
        PERFORM tests.as_gateway('{"email": "ghost@example.com"}');
        PERFORM tests.assert_json_eq(tests.error_of(format('SELECT api.%I(%L)', fn, '{"cycle_stage": "tww"}')),
            '{"state": "NV404", "message": "User not found", "detail": {"code": "USER_NOT_FOUND"}}', fn);
        PERFORM tests.as_gateway('{"id": "6f1c1e43-63c6-4be5-a1c4-8f59e2f3a0b7", "email": "sam@example.com"}');
        PERFORM tests.assert_raises(format('SELECT api.%I(%L)', fn, '{"cycle_stage": "tww"}'), 'NV404',
            'User not found', fn || ': unknown id, even with a known email');
        -- a user_id in the body never names the user
        PERFORM tests.as_gateway();
        PERFORM tests.assert_raises(
            format('SELECT api.%I(%L)', fn, '{"user_id": "' || (SELECT u.id FROM public.users AS u) || '"}'),
            'NV401', 'Access token required', fn || ': body user_id ignored'
        );
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_account_function_definitions()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.proname, p.provolatile, p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
            p.oid::regprocedure::text AS sig
        FROM pg_proc AS p
        WHERE p.pronamespace = 'api'::regnamespace AND p.proname = ANY (ARRAY[
            'signup', 'login', 'me', 'profile', 'update_me', 'update_baseline', 'update_cycle_stage',
            'update_medication_status'
        ])
    LOOP
        PERFORM tests.assert_eq(f.sig, 'api.' || f.proname || '(jsonb)', 'signature');
        PERFORM tests.assert_true(f.prosecdef, f.proname || ' is SECURITY DEFINER');
        PERFORM tests.assert_eq(f.owner, 'novara_definer', f.proname || ' owner');
        PERFORM tests.assert_eq(f.proconfig, ARRAY['search_path=pg_catalog'], f.proname || ' search_path');
        PERFORM tests.assert_eq(f.provolatile::text,
            CASE WHEN f.proname IN ('me', 'profile') THEN 's' ELSE 'v' END, f.proname || ' volatility');
        PERFORM tests.assert_true(has_function_privilege('novara_api', f.sig, 'EXECUTE'), f.proname || ' callable');
        PERFORM tests.assert_true(obj_description(f.sig::regprocedure, 'pg_proc') IS NOT NULL, f.proname || ' comment');
    END LOOP;
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM pg_proc AS p WHERE p.pronamespace = 'api'::regnamespace AND p.proname = ANY (ARRAY[
            'signup', 'login', 'me', 'profile', 'update_me', 'update_baseline', 'update_cycle_stage',
            'update_medication_status'])), 8::bigint, 'eight account functions'
    );
    PERFORM tests.assert_true(NOT has_function_privilege('novara_api', 'core.apply_profile(uuid,jsonb)', 'EXECUTE'),
        'helpers are not callable by the gateway role');
    PERFORM tests.assert_true(NOT has_function_privilege('novara_api', 'core.user_json(uuid)', 'EXECUTE'),
        'user_json not callable by the gateway role');
END
$$;
