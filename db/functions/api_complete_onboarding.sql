-- POST /api/users/complete-onboarding: the web app's scripts mark onboarding done (no body).

CREATE OR REPLACE FUNCTION api.complete_onboarding(args jsonb DEFAULT '{}'::jsonb)
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
    -- The route takes no fields: whatever args hold, only the baseline flag changes.
    PERFORM core.apply_profile(uid, '{"baseline_completed": true}'::jsonb);
    RETURN jsonb_build_object('success', TRUE, 'message', 'Onboarding completed successfully');
END
$$;

ALTER FUNCTION api.complete_onboarding(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.complete_onboarding(jsonb) IS
'POST /api/users/complete-onboarding (no body; any body is ignored): sets the caller''s baseline_completed to '
'true, which unlocks the daily insight. {success: true, message: "Onboarding completed successfully"}. '
'NV401/NV404.';
