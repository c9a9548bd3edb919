-- POST /api/insights/micro: a micro insight personalised from what was sent (onboardingData or
-- checkinData) and the caller's profile, chosen by rules (insight_rules micro_checkin / micro_onboarding).
-- Nothing is stored.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.create_micro_insight(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    a jsonb := coalesce(args, '{}'::jsonb);
    od jsonb := nullif(a -> 'onboardingData', 'null'::jsonb);
    cd jsonb := nullif(a -> 'checkinData', 'null'::jsonb);
    prof public.user_profiles;
    facts jsonb;
    v_set text;
    r public.insight_rules;
BEGIN
    IF od IS NOT NULL AND jsonb_typeof(od) <> 'object' THEN
        PERFORM core.fail(400, 'onboardingData must be an object', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'onboardingData'));
    END IF;
    IF cd IS NOT NULL AND jsonb_typeof(cd) <> 'object' THEN
        PERFORM core.fail(400, 'checkinData must be an object', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'checkinData'));
    END IF;

    SELECT p.* INTO prof FROM public.user_profiles AS p WHERE p.user_id = uid;
    -- The profile, overridden by the onboarding answers sent (strings as strings, confidences as numbers;
    -- a value of another type is ignored, never an error).
    facts := jsonb_build_object(
        'nickname', prof.nickname,
        'primary_need', prof.primary_need,
        'cycle_stage', prof.cycle_stage,
        'top_concern', prof.top_concern,
        'medication_status', prof.medication_status,
        'confidence_meds', coalesce(prof.confidence_meds, 5),
        'confidence_costs', coalesce(prof.confidence_costs, 5),
        'confidence_overall', coalesce(prof.confidence_overall, 5)
    );
    IF od IS NOT NULL THEN
        facts := facts || coalesce((
            SELECT jsonb_object_agg(e.key, e.value)
            FROM jsonb_each(od) AS e
            WHERE
                e.key IN ('nickname', 'primary_need', 'cycle_stage', 'top_concern', 'medication_status')
                AND jsonb_typeof(e.value) = 'string' AND btrim(e.value #>> '{}') <> ''
        ), '{}'::jsonb) || coalesce((
            SELECT jsonb_object_agg(e.key, to_jsonb(core.json_number(e.value)))
            FROM jsonb_each(od) AS e
            WHERE
                e.key IN ('confidence_meds', 'confidence_costs', 'confidence_overall')
                AND core.json_number(e.value) BETWEEN 1 AND 10
        ), '{}'::jsonb);
    END IF;
    facts := facts || jsonb_build_object(
        'name', coalesce(btrim(facts ->> 'nickname'), 'friend'),
        'low_confidence_area',
        core.focus_dimension(facts, core.user_today(uid)) -> 'low_confidence_areas' -> 0
    );

    IF cd IS NOT NULL THEN
        v_set := 'micro_checkin';
        facts := facts || jsonb_build_object(
            'mood_today', CASE WHEN jsonb_typeof(cd -> 'mood_today') = 'string' THEN cd ->> 'mood_today' END,
            'mood_score', CASE WHEN jsonb_typeof(cd -> 'mood_today') = 'string'
                THEN core.mood_score(cd ->> 'mood_today') END,
            'confidence_today', core.json_number(cd -> 'confidence_today'),
            'anxiety_level', core.json_number(cd -> 'anxiety_level'),
            'medication_taken', CASE WHEN jsonb_typeof(cd -> 'medication_taken') = 'string'
                THEN cd ->> 'medication_taken' END,
            'missed_doses', core.json_number(cd -> 'missed_doses')
        );
    ELSE
        v_set := 'micro_onboarding';
    END IF;

    SELECT m.* INTO r FROM core.matching_rules(v_set, facts) AS m ORDER BY m.priority DESC, m.rule_key LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.create_micro_insight: no enabled % rule matches (insight_rules needs a fallback)', v_set;
    END IF;
    RETURN jsonb_build_object(
        'success', TRUE,
        'micro_insight', jsonb_build_object(
            'title', core.render_template(r.title, facts),
            'message', core.render_template(r.message, facts),
            'action', r.action,
            'type', r.insight_type,
            'icon', r.icon
        )
    );
END
$$;

ALTER FUNCTION api.create_micro_insight(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.create_micro_insight(jsonb) IS
'POST /api/insights/micro. args {checkinData?} (rules micro_checkin over its mood score, confidence, anxiety, '
'medication answer, missed doses) or {onboardingData?} / nothing (rules micro_onboarding over the profile '
'overridden by the answers sent; low_confidence_area = lowest confidence <= 4). {success, micro_insight: {title, '
'message, action: {label, type} | null, type, icon}}. Stores nothing. NV400 when either is not an object.';
