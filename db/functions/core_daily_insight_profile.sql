-- The gate of GET /api/insights/daily: personalised insights need a complete profile (baseline_completed; see
-- docs/metrics.md). Shared by api.daily_insight and api.daily_insight_read_only.

CREATE OR REPLACE FUNCTION core.daily_insight_profile(p_user_id uuid)
RETURNS public.user_profiles
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    prof public.user_profiles;
BEGIN
    SELECT p.* INTO prof FROM public.user_profiles AS p WHERE p.user_id = p_user_id;
    IF NOT coalesce(prof.baseline_completed, FALSE) THEN
        PERFORM core.fail(403, 'Complete your profile to unlock personalized insights', 'ONBOARDING_REQUIRED',
            jsonb_build_object(
                'requires_onboarding_completion', TRUE,
                'user_status', jsonb_build_object(
                    'onboarding_path', prof.onboarding_path,
                    'baseline_completed', coalesce(prof.baseline_completed, FALSE),
                    'has_nickname', prof.nickname IS NOT NULL,
                    'has_primary_need', prof.primary_need IS NOT NULL,
                    'has_cycle_stage', prof.cycle_stage IS NOT NULL
                )
            ));
    END IF;
    RETURN prof;
END
$$;

COMMENT ON FUNCTION core.daily_insight_profile(uuid) IS
'The profile of p_user_id, or NV403 ONBOARDING_REQUIRED (requires_onboarding_completion, user_status) until '
'baseline_completed: the gate of the daily insight.';
