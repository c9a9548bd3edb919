-- POST /api/users and POST /api/auth/signup: create an account and its profile, and its password when one is
-- given (the gateway replaces `password` by `password_hash`; see docs/accounts.md).

CREATE OR REPLACE FUNCTION api.signup(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    body jsonb := coalesce(args, '{}'::jsonb);
    v_email text := core.parse_email(body -> 'email');
    v_hash text := core.check_password_hash(body -> 'password_hash', 'password');
    uid uuid;
BEGIN
    -- The whole body is validated before the account exists (a bad body is a 400 even for a taken email).
    PERFORM core.apply_profile(NULL, body);
    IF v_hash IS NULL AND body -> 'require_password' = 'true'::jsonb THEN
        PERFORM core.fail(400, 'Password is required', 'VALIDATION_ERROR', '{"field": "password"}');
    END IF;

    -- No token yet: name the new account in the claims so row-level security lets us create and read it.
    PERFORM set_config('request.jwt.claims', jsonb_build_object('email', v_email)::text, true);
    BEGIN
        INSERT INTO public.users (email) VALUES (v_email) RETURNING id INTO uid;
    EXCEPTION WHEN unique_violation THEN
        -- Race-safe: of two concurrent signups with one email, the unique constraint lets one win.
        PERFORM core.fail(409, 'User already exists', 'USER_EXISTS');
    END;
    PERFORM core.apply_profile(uid, body);
    IF v_hash IS NOT NULL THEN
        INSERT INTO public.user_credentials (user_id, password_hash) VALUES (uid, v_hash);
    END IF;

    RETURN jsonb_build_object('success', TRUE, 'user', core.user_json(uid));
END
$$;

ALTER FUNCTION api.signup(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.signup(jsonb) IS
'POST /api/users, /api/auth/signup: {email, profile fields..., password_hash?, require_password?} -> {success, '
'user} (the gateway adds the token; it hashes a `password` into password_hash). NV400 Email is required / '
'Invalid email format / Email address too long / profile field errors / Password is required (require_password) '
'/ Invalid password hash; '
'NV409 User already exists (emails compare trimmed and lower-cased).';
