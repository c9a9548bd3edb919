-- First half of a login (or of a password change): count the attempt, and hand the gateway what it needs
-- to derive a key from the typed password (the salt and scrypt parameters live here). Not a route: the
-- gateway calls it before the route's function for routes that carry a password (see gateway/routes.py).

CREATE OR REPLACE FUNCTION api.login_begin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    body jsonb := coalesce(args, '{}'::jsonb);
    prior_claims text := coalesce(current_setting('request.jwt.claims', true), '');
    v_email text;
    v_client text := CASE WHEN jsonb_typeof(body -> 'client') = 'string' THEN body ->> 'client' END;
    v_attempt uuid;
    v_hash text;
BEGIN
    IF core.claim_id() IS NOT NULL OR core.claim_email() IS NOT NULL THEN
        -- A signed-in caller (password change): the account is the token's, whatever the body says.
        SELECT u.email INTO v_email FROM public.users AS u WHERE u.id = core.require_user();
    ELSE
        -- Login: as api.login reads it (no format check: an unknown email is the login's 404, not a 400).
        v_email := core.parse_email(body -> 'email', p_check_format => FALSE);
        PERFORM set_config('request.jwt.claims', jsonb_build_object('email', v_email)::text, true);
    END IF;

    v_attempt := core.login_record(v_email, v_client);
    SELECT c.password_hash INTO v_hash
    FROM public.user_credentials AS c
    WHERE c.user_id = core.current_user_id();

    -- Leave the claims as they were (a psql user may call api.login_begin and api.login in one transaction).
    PERFORM set_config('request.jwt.claims', prior_claims, true);
    -- An unknown email and an account without a password look the same here: kdf null.
    RETURN jsonb_build_object('success', TRUE, 'attempt_id', v_attempt, 'kdf', core.password_kdf(v_hash));
END
$$;

ALTER FUNCTION api.login_begin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.login_begin(jsonb) IS
'Called by the gateway before POST /api/auth/login and PUT /api/users/password: {email, client} (email: the '
'token''s user when claims are set) -> {success, attempt_id, kdf: {algorithm, n, r, p, salt} | null} (never the '
'key). Records the attempt (failed until it succeeds). NV400 Email is required; NV404 unknown token user; '
'NV429 Too many login attempts, please try again later (RATE_LIMITED, retry_after).';
