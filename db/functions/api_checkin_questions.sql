-- GET /api/checkins/questions: the day's personalised check-in questions from the question bank
-- (public.checkin_questions): mood and confidence always, plus one focus dimension (core.focus_dimension).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.checkin_questions(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    v_date date;
    prof public.user_profiles;
    facts jsonb;
    focus jsonb;
    v_label text;
    v_confidences jsonb;
    questions jsonb;
BEGIN
    v_date := coalesce(
        core.parse_date(core.check_value('date', coalesce(args, '{}'::jsonb) -> 'date', 'string') #>> '{}', 'date'),
        core.user_today(uid)
    );
    SELECT p.* INTO prof FROM public.user_profiles AS p WHERE p.user_id = uid;
    facts := jsonb_build_object(
        'name', coalesce(prof.nickname, 'friend'),
        'nickname', prof.nickname,
        'cycle_stage', prof.cycle_stage,
        'medication_status', prof.medication_status,
        'primary_need', prof.primary_need,
        'top_concern', prof.top_concern,
        'confidence_meds', coalesce(prof.confidence_meds, 5),
        'confidence_costs', coalesce(prof.confidence_costs, 5),
        'confidence_overall', coalesce(prof.confidence_overall, 5)
    );
    focus := core.focus_dimension(facts, v_date);
    facts := facts || jsonb_build_object('focus_dimension', focus -> 'dimension');

    SELECT
        max(d.label) FILTER (WHERE d.dimension = focus ->> 'dimension'),
        jsonb_object_agg(d.dimension, facts -> d.profile_field)
    INTO v_label, v_confidences
    FROM public.checkin_focus_dimensions AS d;

    SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'id', q.id,
        'type', q.question_type,
        'question', core.render_template(q.question, facts),
        'placeholder', q.placeholder,
        'min', q.min_value,
        'max', q.max_value,
        'options', q.options,
        'required', q.required,
        'priority', q.priority,
        'context', core.render_template(q.context, facts)
    )) ORDER BY q.priority, q.id), '[]'::jsonb)
    INTO questions
    FROM public.checkin_questions AS q
    WHERE
        q.enabled
        AND (q.focus_dimension IS NULL OR q.focus_dimension = focus ->> 'dimension')
        AND core.rule_matches(q.condition, facts);

    RETURN jsonb_build_object(
        'success', TRUE,
        'questions', questions,
        'metadata', jsonb_build_object(
            'date', to_char(v_date, 'YYYY-MM-DD'),
            'focus_dimension', focus -> 'dimension',
            'focus_label', v_label,
            'focus_reason', focus -> 'reason',
            'rotation_dimension', focus -> 'rotation_dimension',
            'rotation_day', focus -> 'rotation_day',
            'total_questions', jsonb_array_length(questions),
            'required_questions', (
                SELECT count(*) FROM jsonb_array_elements(questions) AS x (q) WHERE (x.q ->> 'required')::boolean
            )
        ),
        'personalization_summary', jsonb_build_object(
            'nickname', prof.nickname,
            'cycle_stage', prof.cycle_stage,
            'medication_status', prof.medication_status,
            'onboarding_confidence', v_confidences,
            'low_confidence_areas', focus -> 'low_confidence_areas',
            'focus_dimension', focus -> 'dimension',
            'focus_reason', focus -> 'reason'
        )
    );
END
$$;

ALTER FUNCTION api.checkin_questions(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.checkin_questions(jsonb) IS
'GET /api/checkins/questions. args date? (YYYY-MM-DD, default the caller''s today, core.user_today). {success, '
'questions: [{id, type, question, placeholder?, min?, max?, options?, required, priority, context?}], metadata: {date, '
'focus_dimension, focus_label, focus_reason, rotation_dimension, rotation_day, total_questions, required_questions}, '
'personalization_summary}: the always-asked questions plus those of the focus dimension (core.focus_dimension). '
'NV400 bad date; NV401/NV404.';
