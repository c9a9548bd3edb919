-- PUT /api/users/me: update any profile field but email.

CREATE OR REPLACE FUNCTION api.update_me(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    PERFORM core.apply_profile(uid, coalesce(args, '{}'::jsonb));
    RETURN jsonb_build_object(
        'success', TRUE, 'user', core.user_json(uid), 'message', 'Profile updated successfully'
    );
END
$$;

ALTER FUNCTION api.update_me(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.update_me(jsonb) IS
'PUT /api/users/me: {profile fields...} (email and unknown keys ignored) -> {success, user, message}. '
'NV400 naming the invalid field (nothing is written); NV401/NV404 as every authenticated route.';
