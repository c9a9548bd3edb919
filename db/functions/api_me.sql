-- GET /api/users/me: the caller's account.

CREATE OR REPLACE FUNCTION api.me(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    RETURN jsonb_build_object('success', TRUE, 'user', core.user_json(core.require_user()));
END
$$;

ALTER FUNCTION api.me(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.me(jsonb) IS
'GET /api/users/me: {success, user} for the user named by the claims. NV401 without claims, NV404 unknown user.';
