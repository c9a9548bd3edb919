-- POST /api/auth/login: by email alone (compat: the frontend sends no password), or with the password of an
-- account that has one. The gateway first calls api.login_begin (which counts the attempt and gives it the
-- salt), derives the key from the typed password and passes it here; see docs/accounts.md.

CREATE OR REPLACE FUNCTION api.login(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    body jsonb := coalesce(args, '{}'::jsonb);
    -- No format check: any string is looked up as given (login's only 400 is a missing email).
    v_email text := core.parse_email(body -> 'email', p_check_format => FALSE);
    v_key text := CASE WHEN jsonb_typeof(body -> 'password_key') = 'string' THEN body ->> 'password_key' END;
    v_given boolean := coalesce(body -> 'password_given' = 'true'::jsonb, v_key IS NOT NULL);
    v_require boolean := coalesce(body -> 'require_password' = 'true'::jsonb, FALSE);
    v_hash text;
    uid uuid;
BEGIN
    -- No token yet: name the account in the claims so row-level security lets us read it.
    PERFORM set_config('request.jwt.claims', jsonb_build_object('email', v_email)::text, true);
    SELECT u.id INTO uid FROM public.users AS u WHERE u.email = v_email;
    IF uid IS NULL THEN
        PERFORM core.fail(404, 'User not found. Please sign up first.', 'USER_NOT_FOUND');
    END IF;

    SELECT c.password_hash INTO v_hash FROM public.user_credentials AS c WHERE c.user_id = uid;
    IF v_hash IS NOT NULL THEN
        IF NOT v_given THEN
            PERFORM core.fail(401, 'Password is required for this account', 'PASSWORD_REQUIRED');
        ELSIF NOT core.password_matches(v_hash, v_key) THEN
            PERFORM core.fail(401, 'Invalid email or password', 'INVALID_CREDENTIALS');
        END IF;
    ELSIF v_require THEN
        PERFORM core.fail(401, 'A password is required, but none is set for this account', 'PASSWORD_NOT_SET');
    ELSIF v_given THEN
        -- A password for an account that has none cannot be right: refuse rather than ignore it.
        PERFORM core.fail(401, 'Invalid email or password', 'INVALID_CREDENTIALS');
    END IF;

    PERFORM core.login_succeeded(body -> 'attempt_id', v_email);
    RETURN jsonb_build_object('success', TRUE, 'user', core.user_json(uid), 'userExists', TRUE);
END
$$;

ALTER FUNCTION api.login(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.login(jsonb) IS
'POST /api/auth/login: {email, password_key?, password_given?, attempt_id?, require_password?} (the gateway '
'turns the typed password into password_key) -> {success, user, userExists: true} (the gateway adds the token). '
'NV400 Email is required; NV404 User not found. Please sign up first.; NV401 Password is required for this '
'account (PASSWORD_REQUIRED) / Invalid email or password (INVALID_CREDENTIALS) / A password is required, but '
'none is set for this account (PASSWORD_NOT_SET, when require_password).';
