-- depends: functions/core_iso.sql
-- The API's `user` object (docs/api.md, the account routes), built in one place for every account route.

CREATE OR REPLACE FUNCTION core.user_json(p_user_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'id', u.id,
        'email', u.email,
        'nickname', p.nickname,
        'timezone', coalesce(p.timezone, 'America/Los_Angeles'),
        'email_opt_in', coalesce(p.email_opt_in, TRUE),
        'status', u.status,
        'confidence_meds', coalesce(p.confidence_meds, 5),
        'confidence_costs', coalesce(p.confidence_costs, 5),
        'confidence_overall', coalesce(p.confidence_overall, 5),
        'primary_need', p.primary_need,
        'cycle_stage', p.cycle_stage,
        'top_concern', p.top_concern,
        'medication_status', p.medication_status,
        'onboarding_path', p.onboarding_path,
        'baseline_completed', coalesce(p.baseline_completed, FALSE),
        'created_at', core.iso(u.created_at)
    )
    FROM public.users AS u
    LEFT JOIN public.user_profiles AS p ON p.user_id = u.id
    WHERE u.id = p_user_id
$$;

COMMENT ON FUNCTION core.user_json(uuid) IS
'The contract''s user object {id, email, nickname, timezone, email_opt_in, status, confidences, primary_need, '
'cycle_stage, top_concern, medication_status, onboarding_path, baseline_completed, created_at}; NULL when '
'the user is not visible (row-level security) or does not exist. Profile defaults stand in for a missing profile.';
