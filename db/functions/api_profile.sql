-- GET /api/users/profile: the caller's fields flat beside success (compat).

CREATE OR REPLACE FUNCTION api.profile(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    RETURN jsonb_build_object('success', TRUE)
        || core.user_json(uid)
        || (
            SELECT jsonb_build_object(
                'cycle_stage_updated', core.iso(p.cycle_stage_updated),
                'medication_status_updated', core.iso(p.medication_status_updated)
            )
            FROM public.user_profiles AS p
            WHERE p.user_id = uid
        );
END
$$;

ALTER FUNCTION api.profile(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.profile(jsonb) IS
'GET /api/users/profile: {success, ...the user object''s fields, cycle_stage_updated, medication_status_updated} '
'flat (compat). NV401 without claims, NV404 unknown user.';
