-- POST /api/auth/login: login by email alone (compat: the frontend sends no password).

CREATE OR REPLACE FUNCTION api.login(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: the gateway role has no table privileges; RLS still applies (novara_definer is not BYPASSRLS).
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    -- No format check: any string is looked up as given (contract: login's only 400 is a missing email).
    v_email text := core.parse_email(coalesce(args, '{}'::jsonb) -> 'email', p_check_format => FALSE);
    uid uuid;
BEGIN
    -- No token yet: name the account in the claims so row-level security lets us read it.
    PERFORM set_config('request.jwt.claims', jsonb_build_object('email', v_email)::text, true);
    SELECT u.id INTO uid FROM public.users AS u WHERE u.email = v_email;
    IF uid IS NULL THEN
        PERFORM core.fail(404, 'User not found. Please sign up first.', 'USER_NOT_FOUND');
    END IF;

    RETURN jsonb_build_object('success', TRUE, 'user', core.user_json(uid), 'userExists', TRUE);
END
$$;

ALTER FUNCTION api.login(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.login(jsonb) IS
'POST /api/auth/login: {email} -> {success, user, userExists: true} (the gateway adds the token). '
'NV400 Email is required; NV404 User not found. Please sign up first.';
