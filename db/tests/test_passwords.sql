-- Optional passwords and login rate limits (docs/accounts.md): api.signup / api.login / api.login_begin /
-- api.change_password with the hashes and keys the gateway computes, the privileges that keep the hash out
-- of reach, the limits and their windows, and erasure. Route functions run as novara_api (tests.as_gateway).

-- A stored hash and its key (any valid base64 of the right length: the database only compares strings).
CREATE OR REPLACE FUNCTION tests.pw_key()
RETURNS text
LANGUAGE sql
AS $$ SELECT 'a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=' $$;

CREATE OR REPLACE FUNCTION tests.pw_hash()
RETURNS text
LANGUAGE sql
AS $$ SELECT 'scrypt$16384$8$1$c3Nzc3Nzc3Nzc3Nzc3Nzcw==$' || tests.pw_key() $$;

CREATE OR REPLACE FUNCTION tests.pw_wrong_key()
RETURNS text
LANGUAGE sql
AS $$ SELECT 'd3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nd3I=' $$;

-- Sign up through the route function as the gateway would (p_hash NULL: no password); returns the id.
CREATE OR REPLACE FUNCTION tests.pw_signup(p_email text, p_hash text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.as_gateway();
    r := api.signup(jsonb_build_object('email', p_email, 'password_hash', p_hash, 'require_password', FALSE));
    PERFORM tests.as_superuser();
    RETURN (r #>> '{user,id}')::uuid;
END
$$;

-- The login as the gateway runs it: api.login_begin (counts the attempt), then api.login with the key; as
-- novara_api, then back to the superuser.
CREATE OR REPLACE FUNCTION tests.pw_login(
    p_email text, p_key text, p_given boolean DEFAULT NULL, p_require boolean DEFAULT FALSE,
    p_client text DEFAULT '192.0.2.1'
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    begun jsonb;
    r jsonb;
BEGIN
    PERFORM tests.as_gateway();
    begun := api.login_begin(jsonb_build_object('email', p_email, 'client', p_client));
    r := api.login(jsonb_build_object(
        'email', p_email, 'password_key', p_key, 'password_given', coalesce(p_given, p_key IS NOT NULL),
        'require_password', p_require, 'attempt_id', begun -> 'attempt_id'
    ));
    PERFORM tests.as_superuser();
    RETURN r;
END
$$;

-- A login as tests.pw_login runs it, expected to fail: {state, message, code} of its error (NULL: none). The
-- two calls are two statements in the gateway: the attempt login_begin records stays when api.login fails.
CREATE OR REPLACE FUNCTION tests.pw_login_error(
    p_email text, p_key text, p_given boolean DEFAULT NULL, p_require boolean DEFAULT FALSE,
    p_client text DEFAULT '192.0.2.1'
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    begun jsonb;
    st text;
    msg text;
    det text;
BEGIN
    PERFORM tests.as_gateway();
    BEGIN
        begun := api.login_begin(jsonb_build_object('email', p_email, 'client', p_client));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    END;
    BEGIN
        IF st IS NULL THEN
            PERFORM api.login(jsonb_build_object(
                'email', p_email, 'password_key', p_key, 'password_given', coalesce(p_given, p_key IS NOT NULL),
                'require_password', p_require, 'attempt_id', begun -> 'attempt_id'
            ));
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    END;
    PERFORM tests.as_superuser();
    IF st IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object('state', st, 'message', msg, 'code', det::jsonb ->> 'code');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_stores_only_the_hash()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.pw_signup('pat@example.com', tests.pw_hash());
    b uuid := tests.pw_signup('nopw@example.com');
BEGIN
    PERFORM tests.assert_eq(
        (SELECT c.password_hash FROM public.user_credentials AS c WHERE c.user_id = a), tests.pw_hash(), 'stored'
    );
    PERFORM tests.assert_eq((SELECT c.set_at FROM public.user_credentials AS c WHERE c.user_id = a), now(), 'set_at');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_credentials AS c WHERE c.user_id = b), 0::bigint, 'none');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_signup_password_rules()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    e jsonb;
BEGIN
    PERFORM tests.as_gateway();
    e := tests.error_of($q$SELECT api.signup('{"email": "req@example.com", "require_password": true}')$q$);
    PERFORM tests.assert_json_eq(e, '{"state": "NV400", "message": "Password is required",
        "detail": {"code": "VALIDATION_ERROR", "field": "password"}}', 'required');
    e := tests.error_of($q$SELECT api.signup('{"email": "bad@example.com", "password_hash": "hunter22-secret"}')$q$);
    PERFORM tests.assert_json_eq(e, '{"state": "NV400", "message": "Invalid password hash",
        "detail": {"code": "VALIDATION_ERROR", "field": "password"}}', 'malformed: value not echoed');
    -- parameters outside what the gateway computes: N not a power of two, N too small, r too big
    FOREACH e IN ARRAY ARRAY[
        to_jsonb(replace(tests.pw_hash(), '$16384$', '$16383$')), to_jsonb(replace(tests.pw_hash(), '$16384$', '$512$')),
        to_jsonb(replace(tests.pw_hash(), '$8$1$', '$64$1$')), '42'::jsonb
    ] LOOP
        PERFORM tests.assert_eq(
            tests.error_of(format('SELECT api.signup(%L)', jsonb_build_object('email', 'p@example.com', 'password_hash', e)))
            ->> 'message', 'Invalid password hash', e::text
        );
    END LOOP;
    -- with a hash, require_password is satisfied
    PERFORM api.signup(jsonb_build_object('email', 'ok@example.com', 'password_hash', tests.pw_hash(),
        'require_password', TRUE));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT string_agg(u.email, ',' ORDER BY u.email) FROM public.users AS u), 'ok@example.com', 'nothing else written'
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_credentials), 1::bigint, 'one hash');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_login_password_rules()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.pw_signup('pat@example.com', tests.pw_hash());
    r jsonb;
BEGIN
    PERFORM tests.pw_signup('nopw@example.com');
    PERFORM tests.assert_json_eq(tests.pw_login_error('pat@example.com', NULL),
        '{"state": "NV401", "message": "Password is required for this account", "code": "PASSWORD_REQUIRED"}', 'missing');
    PERFORM tests.assert_json_eq(tests.pw_login_error('pat@example.com', tests.pw_wrong_key()),
        '{"state": "NV401", "message": "Invalid email or password", "code": "INVALID_CREDENTIALS"}', 'wrong');
    PERFORM tests.assert_json_eq(tests.pw_login_error('pat@example.com', NULL, TRUE),
        '{"state": "NV401", "message": "Invalid email or password", "code": "INVALID_CREDENTIALS"}', 'given, no key');
    PERFORM tests.assert_json_eq(tests.pw_login_error('nopw@example.com', NULL, TRUE),
        '{"state": "NV401", "message": "Invalid email or password", "code": "INVALID_CREDENTIALS"}',
        'a password for an account without one');
    PERFORM tests.assert_json_eq(tests.pw_login_error('nopw@example.com', NULL, FALSE, TRUE),
        '{"state": "NV401", "message": "A password is required, but none is set for this account",
          "code": "PASSWORD_NOT_SET"}', 'require_password, no password set');
    PERFORM tests.assert_json_eq(tests.pw_login_error('ghost@example.com', tests.pw_key()),
        '{"state": "NV404", "message": "User not found. Please sign up first.", "code": "USER_NOT_FOUND"}', 'unknown');

    r := tests.pw_login(' PAT@example.com ', tests.pw_key());
    PERFORM tests.assert_eq((r #>> '{user,id}')::uuid, a, 'right key');
    PERFORM tests.assert_json_eq(r - 'user', '{"success": true, "userExists": true}', 'contract body');
    r := tests.pw_login('pat@example.com', tests.pw_key(), TRUE, TRUE);
    PERFORM tests.assert_eq((r #>> '{user,id}')::uuid, a, 'right key, require_password');
    r := tests.pw_login('nopw@example.com', NULL);
    PERFORM tests.assert_eq(r #>> '{user,email}', 'nopw@example.com', 'email alone still works');
    PERFORM tests.as_superuser();
    -- each login counted one attempt; the three that succeeded are marked (the others rolled back nothing)
    PERFORM tests.assert_eq(
        (SELECT string_agg(a.email || ':' || a.succeeded, ',' ORDER BY a.attempted_at) FROM public.login_attempts AS a),
        'pat@example.com:false,pat@example.com:false,pat@example.com:false,nopw@example.com:false,'
        || 'nopw@example.com:false,ghost@example.com:false,pat@example.com:true,pat@example.com:true,nopw@example.com:true',
        'attempts'
    );
    PERFORM tests.assert_eq((SELECT count(DISTINCT a.client) FROM public.login_attempts AS a), 1::bigint, 'client kept');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_login_begin_reveals_no_more_than_the_404()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.pw_signup('pat@example.com', tests.pw_hash());
    PERFORM tests.pw_signup('nopw@example.com');
    PERFORM tests.as_gateway();
    r := api.login_begin('{"email": "pat@example.com"}');
    PERFORM tests.assert_json_eq(r -> 'kdf',
        '{"algorithm": "scrypt", "n": 16384, "r": 8, "p": 1, "salt": "c3Nzc3Nzc3Nzc3Nzc3Nzcw=="}', 'kdf, no key');
    PERFORM tests.assert_true((r ->> 'attempt_id') ~ '^[0-9a-f-]{36}$', 'attempt id');
    PERFORM tests.assert_eq(jsonb_typeof(api.login_begin('{"email": "nopw@example.com"}') -> 'kdf'), 'null', 'no pw');
    PERFORM tests.assert_eq(jsonb_typeof(api.login_begin('{"email": "ghost@example.com"}') -> 'kdf'), 'null', 'unknown');
    PERFORM tests.assert_json_eq(
        tests.error_of($q$SELECT api.login_begin('{"email": "  "}')$q$),
        '{"state": "NV400", "message": "Email is required", "detail": {"code": "VALIDATION_ERROR", "field": "email"}}'
    );
    -- an email longer than any account's is counted by its address only
    PERFORM api.login_begin(jsonb_build_object('email', repeat('x', 6000), 'client', '192.0.2.9'));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.login_attempts AS a WHERE a.email IS NULL AND a.client = '192.0.2.9'), 1::bigint
    );
END
$$;

-- No api.* function returns the hash's key, in its result or its error, for a user who has a password.
CREATE OR REPLACE FUNCTION tests.test_no_api_function_returns_the_hash()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.pw_signup('pat@example.com', tests.pw_hash());
    claims jsonb := jsonb_build_object('id', uid, 'email', 'pat@example.com');
    fn text;
    body jsonb;
    out text;
    detail text;
    called integer := 0;
BEGIN
    FOR fn, body IN
        SELECT p.oid::regproc::text, b.body
        FROM pg_catalog.pg_proc AS p
        CROSS JOIN (VALUES ('{}'::jsonb), ('{"email": "pat@example.com", "client": "192.0.2.1"}'::jsonb)) AS b (body)
        WHERE p.pronamespace = 'api'::regnamespace
        ORDER BY 1, 2
    LOOP
        PERFORM tests.as_gateway(CASE WHEN fn IN ('api.login', 'api.login_begin', 'api.signup') AND body <> '{}'
            THEN NULL ELSE claims END);
        BEGIN
            EXECUTE format('SELECT %s($1)::text', fn) INTO out USING body;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS out = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
            out := out || ' ' || coalesce(detail, '');
        END;
        called := called + 1;
        PERFORM tests.assert_true(out IS NULL OR position(tests.pw_key() IN out) = 0, fn || ' returned the key');
        PERFORM tests.assert_true(out IS NULL OR position('scrypt$' IN out) = 0, fn || ' returned the hash');
    END LOOP;
    PERFORM tests.as_superuser();
    PERFORM tests.assert_true(called >= 60, 'every api function called twice: ' || called);
    -- the successful ones really ran as the user: login with the body succeeded and said nothing of the hash
    PERFORM tests.assert_true(
        (SELECT count(*) FROM public.login_attempts AS a WHERE a.email = 'pat@example.com') >= 1, 'login_begin ran'
    );
END
$$;

-- The SQLSTATE `stmt` raises when run as role `r` with the claims naming pat@example.com (NULL: none).
CREATE OR REPLACE FUNCTION tests.pw_denied(r text, stmt text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    st text;
BEGIN
    PERFORM set_config('request.jwt.claims', '{"email": "pat@example.com"}', TRUE);
    PERFORM set_config('role', r, TRUE);
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    END;
    PERFORM set_config('role', 'none', TRUE);
    RETURN st;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_gateway_and_analyst_cannot_read_credentials()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r text;
    n bigint;
BEGIN
    PERFORM tests.pw_signup('pat@example.com', tests.pw_hash());
    PERFORM tests.pw_login('pat@example.com', tests.pw_key());
    FOREACH r IN ARRAY ARRAY['novara_api', 'novara_analyst'] LOOP
        PERFORM tests.assert_true(NOT has_table_privilege(r, 'public.user_credentials', 'SELECT'), r || ' credentials');
        PERFORM tests.assert_true(NOT has_table_privilege(r, 'public.login_attempts', 'SELECT'), r || ' attempts');
        PERFORM tests.assert_true(NOT has_column_privilege(r, 'public.user_credentials', 'password_hash', 'SELECT'), r);
        PERFORM tests.assert_eq(tests.pw_denied(r, 'SELECT * FROM public.user_credentials'), '42501', r || ' select');
        PERFORM tests.assert_eq(tests.pw_denied(r, 'SELECT * FROM public.login_attempts'), '42501', r || ' attempts');
        PERFORM tests.assert_eq(tests.pw_denied(r, 'DELETE FROM public.login_attempts'), '42501', r || ' delete');
    END LOOP;
    -- the limits are configuration the functions read; analysts need them no more than the gateway role does
    PERFORM tests.assert_true(NOT has_table_privilege('novara_analyst', 'public.login_limits', 'SELECT'), 'limits');
    -- row-level security binds even the functions' owner to the claims' user
    PERFORM tests.pw_signup('other@example.com', tests.pw_hash());
    PERFORM set_config('request.jwt.claims', '{"email": "pat@example.com"}', TRUE);
    PERFORM set_config('role', 'novara_definer', TRUE);
    n := (SELECT count(*) FROM public.user_credentials);
    PERFORM set_config('role', 'none', TRUE);
    PERFORM tests.assert_eq(n, 1::bigint, 'definer sees the claims user only');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_credentials), 2::bigint, 'two hashes');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_email_limit_and_its_window()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    e jsonb;
BEGIN
    PERFORM tests.pw_signup('pat@example.com', tests.pw_hash());
    -- failures older than the window do not count
    INSERT INTO public.login_attempts (email, client, attempted_at)
    SELECT 'pat@example.com', '198.51.100.' || i, now() - INTERVAL '16 minutes' FROM generate_series(1, 10) AS i;
    FOR i IN 1..4 LOOP
        PERFORM tests.assert_eq(tests.pw_login_error('pat@example.com', tests.pw_wrong_key(), NULL, FALSE, '10.0.0.' || i)
            ->> 'code', 'INVALID_CREDENTIALS', 'failure ' || i);
    END LOOP;
    -- a success resets the email's count
    PERFORM tests.pw_login('pat@example.com', tests.pw_key());
    FOR i IN 1..5 LOOP
        PERFORM tests.assert_eq(tests.pw_login_error('pat@example.com', tests.pw_wrong_key(), NULL, FALSE, '10.0.1.' || i)
            ->> 'code', 'INVALID_CREDENTIALS', 'failure after success ' || i);
    END LOOP;
    -- the 6th attempt in the window, even with the right key, from another address: 429 before any check
    PERFORM tests.as_gateway();
    e := tests.error_of($q$SELECT api.login_begin('{"email": "pat@example.com", "client": "10.9.9.9"}')$q$);
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(e ->> 'state', 'NV429', 'limited');
    PERFORM tests.assert_eq(e ->> 'message', 'Too many login attempts, please try again later', 'message');
    PERFORM tests.assert_eq(e #>> '{detail,code}', 'RATE_LIMITED', 'code');
    PERFORM tests.assert_true((e #>> '{detail,retry_after}')::int BETWEEN 900 AND 901, 'retry_after ' || (e ->> 'detail'));
    -- the refused attempt was not recorded (the lock-out does not extend itself)
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.login_attempts AS a WHERE a.client = '10.9.9.9'), 0::bigint, 'not recorded'
    );
    -- once the oldest counted failure leaves the window, one more attempt is allowed; retry_after follows it
    UPDATE public.login_attempts AS a SET attempted_at = now() - INTERVAL '15 minutes 1 second'
    WHERE a.client = '10.0.1.1';
    UPDATE public.login_attempts AS a SET attempted_at = now() - INTERVAL '10 minutes' WHERE a.client = '10.0.1.2';
    PERFORM tests.assert_eq(tests.pw_login('pat@example.com', tests.pw_key()) #>> '{user,email}', 'pat@example.com');
    -- another email is not affected
    PERFORM tests.pw_signup('other@example.com');
    PERFORM tests.assert_eq(tests.pw_login('other@example.com', NULL) #>> '{user,email}', 'other@example.com');
    -- the limits are data: an operator tightens them
    UPDATE public.login_limits SET max_failures = 1, time_window = INTERVAL '1 minute' WHERE scope = 'email';
    PERFORM tests.pw_login_error('other@example.com', tests.pw_wrong_key());
    e := tests.pw_login_error('other@example.com', NULL);
    PERFORM tests.assert_eq(e ->> 'state', 'NV429', 'tightened limit');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_client_limit()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    e jsonb;
BEGIN
    PERFORM tests.pw_signup('pat@example.com');
    -- 20 failures (unknown emails: enumeration) from one address; successes from it do not count
    FOR i IN 1..20 LOOP
        PERFORM tests.assert_eq(tests.pw_login_error('ghost' || i || '@example.com', NULL, NULL, FALSE, '203.0.113.7')
            ->> 'code', 'USER_NOT_FOUND', 'failure ' || i);
        IF i = 10 THEN
            PERFORM tests.pw_login('pat@example.com', NULL, NULL, FALSE, '203.0.113.7');
        END IF;
    END LOOP;
    e := tests.pw_login_error('pat@example.com', NULL, NULL, FALSE, '203.0.113.7');
    PERFORM tests.assert_json_eq(e, '{"state": "NV429", "message": "Too many login attempts, please try again later",
        "code": "RATE_LIMITED"}', 'the address is limited, for any email');
    PERFORM tests.assert_eq(tests.pw_login('pat@example.com', NULL, NULL, FALSE, '203.0.113.8') #>> '{user,email}',
        'pat@example.com', 'another address is not');
    PERFORM tests.assert_eq(tests.pw_login('pat@example.com', NULL, NULL, FALSE, NULL) #>> '{user,email}',
        'pat@example.com', 'no address (psql): only the email counts');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_change_password()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.pw_signup('pat@example.com');
    new_hash text := replace(tests.pw_hash(), tests.pw_key(), tests.pw_wrong_key());
    r jsonb;
    e jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "pat@example.com"}');
    PERFORM tests.assert_json_eq(tests.error_of('SELECT api.change_password()'), '{"state": "NV400",
        "message": "new_password is required", "detail": {"code": "VALIDATION_ERROR", "field": "new_password"}}');
    -- first password: no current one needed
    r := api.change_password(jsonb_build_object('new_password_hash', tests.pw_hash()));
    PERFORM tests.assert_eq(r ->> 'message', 'Password set successfully', 'set');
    PERFORM tests.assert_true(abs(extract(EPOCH FROM (r ->> 'password_set_at')::timestamptz - now())) < 0.001, 'set_at');
    -- now the current one is required and must match
    e := tests.error_of(format('SELECT api.change_password(%L)', jsonb_build_object('new_password_hash', new_hash)));
    PERFORM tests.assert_json_eq(e, '{"state": "NV400", "message": "current_password is required",
        "detail": {"code": "VALIDATION_ERROR", "field": "current_password"}}', 'current required');
    e := tests.error_of(format('SELECT api.change_password(%L)', jsonb_build_object(
        'new_password_hash', new_hash, 'current_password_key', tests.pw_wrong_key())));
    PERFORM tests.assert_json_eq(e, '{"state": "NV403", "message": "Current password is incorrect",
        "detail": {"code": "INVALID_CREDENTIALS"}}', 'wrong current');
    -- through login_begin, as the gateway does: the attempt is the token user's and is marked succeeded
    r := api.login_begin('{"email": "someone.else@example.com", "client": "192.0.2.5"}');
    PERFORM tests.assert_eq(r #>> '{kdf,salt}', 'c3Nzc3Nzc3Nzc3Nzc3Nzcw==', 'the token user''s salt');
    r := api.change_password(jsonb_build_object('new_password_hash', new_hash, 'current_password_key', tests.pw_key(),
        'current_password_given', TRUE, 'attempt_id', r -> 'attempt_id'));
    PERFORM tests.assert_eq(r ->> 'message', 'Password changed successfully', 'changed');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT c.password_hash FROM public.user_credentials AS c WHERE c.user_id = uid), new_hash);
    PERFORM tests.assert_eq(
        (SELECT string_agg(a.email || ':' || a.succeeded, ',') FROM public.login_attempts AS a),
        'pat@example.com:true', 'attempt of the token user, succeeded'
    );
    -- the old key no longer logs in, the new one does
    PERFORM tests.assert_eq(tests.pw_login_error('pat@example.com', tests.pw_key()) ->> 'code', 'INVALID_CREDENTIALS');
    PERFORM tests.assert_eq((tests.pw_login('pat@example.com', tests.pw_wrong_key()) #>> '{user,id}')::uuid, uid);
    -- a token naming nobody
    PERFORM tests.as_gateway('{"email": "ghost@example.com"}');
    PERFORM tests.assert_raises('SELECT api.login_begin()', 'NV404', 'User not found');
    PERFORM tests.assert_raises(format('SELECT api.change_password(%L)', jsonb_build_object('new_password_hash', new_hash)),
        'NV404', 'User not found');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_erasure_removes_hash_and_attempts()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.pw_signup('pat@example.com', tests.pw_hash());
    b uuid := tests.pw_signup('kay@example.com', tests.pw_hash());
BEGIN
    PERFORM tests.pw_login('pat@example.com', tests.pw_key());
    PERFORM tests.pw_login_error('pat@example.com', tests.pw_wrong_key());
    PERFORM tests.pw_login('kay@example.com', tests.pw_key());
    PERFORM tests.as_superuser();
    PERFORM core.erase_user(a, 'test');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_credentials AS c WHERE c.user_id = a), 0::bigint, 'hash');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.login_attempts AS l WHERE l.email = 'pat@example.com'), 0::bigint, 'attempts'
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.user_credentials AS c WHERE c.user_id = b), 1::bigint, 'B');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.login_attempts AS l), 1::bigint, 'B''s attempt');
    -- and the erased user's token names nobody any more
    PERFORM tests.as_gateway(jsonb_build_object('id', a, 'email', 'pat@example.com'));
    PERFORM tests.assert_raises('SELECT api.me()', 'NV404', 'User not found');
END
$$;
