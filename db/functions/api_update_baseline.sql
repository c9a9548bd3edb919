-- PATCH /api/users/baseline: the onboarding baseline (nickname, confidences, top concern).

CREATE OR REPLACE FUNCTION api.update_baseline(args jsonb DEFAULT '{}'::jsonb)
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
    -- Every profile field sent is applied (nothing accepted is dropped); the baseline is then complete.
    PERFORM core.apply_profile(uid, coalesce(args, '{}'::jsonb) || '{"baseline_completed": true}'::jsonb);
    RETURN jsonb_build_object(
        'success', TRUE, 'message', 'Baseline data updated successfully', 'user', core.user_json(uid)
    );
END
$$;

ALTER FUNCTION api.update_baseline(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.update_baseline(jsonb) IS
'PATCH /api/users/baseline: {nickname, confidence_meds/costs/overall, top_concern, ...} -> {success, message, '
'user} with baseline_completed true. NV400 naming the invalid field; NV401/NV404.';
