-- GET /api/checkins/questions: the question bank, the 3-day rotation and the low-confidence override.

-- The focus dimension of the current user's questions on a date.
CREATE OR REPLACE FUNCTION tests.cq_focus(p_date text)
RETURNS text
LANGUAGE sql
AS $$
    SELECT api.checkin_questions(jsonb_build_object('date', p_date)) #>> '{metadata,focus_dimension}'
$$;

CREATE OR REPLACE FUNCTION tests.test_questions_rotation_over_the_date()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM api.signup('{"email": "ann@example.com", "nickname": "Ann", "cycle_stage": "stimulation"}');
    PERFORM tests.assert_eq(
        ARRAY[tests.cq_focus('2000-01-01'), tests.cq_focus('2000-01-02'), tests.cq_focus('2000-01-03'),
            tests.cq_focus('2000-01-04'), tests.cq_focus('1999-12-31')],
        ARRAY['medication', 'financial', 'journey', 'medication', 'journey'],
        'a 3-day rotation over the calendar date'
    );
    PERFORM tests.assert_eq(
        ARRAY[tests.cq_focus('2026-03-07'), tests.cq_focus('2026-03-08'), tests.cq_focus('2026-03-09')],
        ARRAY['financial', 'journey', 'medication'], 'across a DST change: calendar days'
    );

    r := api.checkin_questions('{"date": "2000-01-01"}');
    PERFORM tests.assert_json_eq(r -> 'questions', '[
        {"id": "mood_today", "type": "select", "question": "How are you feeling today?", "options": ["hopeful",
         "anxious", "overwhelmed", "frustrated", "grateful", "tired", "excited", "worried", "neutral", "amazing", "good",
         "okay", "tough", "very tough", "confident", "optimistic"], "required": true, "priority": 1,
         "context": "Pick every word that fits today."},
        {"id": "confidence_today", "type": "slider", "question": "How confident do you feel about your journey today?",
         "min": 1, "max": 10, "required": true, "priority": 2},
        {"id": "medication_taken", "type": "select", "question": "Did you take your medication as planned today?",
         "options": ["yes", "no", "partial", "not_applicable"], "required": false, "priority": 10},
        {"id": "medication_confidence_today", "type": "slider",
         "question": "How confident do you feel about managing your medications today?", "min": 1, "max": 10,
         "required": false, "priority": 11, "context": "At onboarding you rated your medication confidence 5/10."},
        {"id": "medication_concern_today", "type": "text", "question": "Is anything about your medications on your mind?",
         "placeholder": "e.g. injection timing, side effects, refills", "required": false, "priority": 12}
    ]');
    PERFORM tests.assert_json_eq(r -> 'metadata', '{"date": "2000-01-01", "focus_dimension": "medication",
        "focus_label": "Medication", "focus_reason": "rotation", "rotation_dimension": "medication", "rotation_day": 0,
        "total_questions": 5, "required_questions": 2}');
    PERFORM tests.assert_json_eq(r -> 'personalization_summary', '{"nickname": "Ann", "cycle_stage": "stimulation",
        "medication_status": null, "onboarding_confidence": {"medication": 5, "financial": 5, "journey": 5},
        "low_confidence_areas": [], "focus_dimension": "medication", "focus_reason": "rotation"}');

    -- every day: mood and confidence first, then only the focus dimension's questions
    r := api.checkin_questions('{"date": "2000-01-02"}');
    PERFORM tests.assert_eq(ARRAY(SELECT q ->> 'id' FROM jsonb_array_elements(r -> 'questions') AS q),
        ARRAY['mood_today', 'confidence_today', 'financial_confidence_today', 'financial_stress_today',
            'financial_concern_today']);
    r := api.checkin_questions('{"date": "2000-01-03"}');
    PERFORM tests.assert_eq(ARRAY(SELECT q ->> 'id' FROM jsonb_array_elements(r -> 'questions') AS q),
        ARRAY['mood_today', 'confidence_today', 'journey_confidence_today', 'journey_readiness_today',
            'journey_reflection_today']);
    -- default: the caller's local today
    PERFORM tests.assert_eq(api.checkin_questions() #>> '{metadata,date}',
        (now() AT TIME ZONE 'America/Los_Angeles')::date::text);
    PERFORM tests.assert_raises($q$SELECT api.checkin_questions('{"date": "2026-02-30"}')$q$, 'NV400',
        'date must be a real calendar date%');
    PERFORM set_config('request.jwt.claims', '', true);
    PERFORM tests.assert_raises('SELECT api.checkin_questions()', 'NV401', 'Access token required');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_questions_low_confidence_override()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM api.signup('{"email": "ann@example.com", "confidence_costs": 4}');
    PERFORM tests.assert_eq(
        ARRAY[tests.cq_focus('2000-01-01'), tests.cq_focus('2000-01-02'), tests.cq_focus('2000-01-03')],
        ARRAY['financial', 'financial', 'financial'], 'a confidence of 4 overrides the rotation every day'
    );
    r := api.checkin_questions('{"date": "2000-01-01"}');
    PERFORM tests.assert_json_eq((r -> 'metadata') - 'date' - 'total_questions' - 'required_questions', '{
        "focus_dimension": "financial", "focus_label": "Costs and finances", "focus_reason": "low_confidence",
        "rotation_dimension": "medication", "rotation_day": 0}');
    PERFORM tests.assert_eq(r #>> '{questions,2,context}', 'At onboarding you rated your confidence about costs 4/10.');

    -- the lowest wins
    PERFORM api.update_me('{"confidence_meds": 3, "confidence_overall": 2}');
    PERFORM tests.assert_eq(tests.cq_focus('2000-01-02'), 'journey');
    PERFORM tests.assert_json_eq(api.checkin_questions('{"date": "2000-01-02"}') #> '{personalization_summary}',
        '{"nickname": null, "cycle_stage": null, "medication_status": null, "onboarding_confidence": {"medication": 3,
        "financial": 4, "journey": 2}, "low_confidence_areas": ["journey", "medication", "financial"],
        "focus_dimension": "journey", "focus_reason": "low_confidence"}');
    -- a tie goes to the dimension that comes first in the rotation from the day
    PERFORM api.update_me('{"confidence_meds": 3, "confidence_costs": 5, "confidence_overall": 3}');
    PERFORM tests.assert_eq(
        ARRAY[tests.cq_focus('2000-01-01'), tests.cq_focus('2000-01-02'), tests.cq_focus('2000-01-03')],
        ARRAY['medication', 'journey', 'journey']
    );
    -- 5 and above never override
    PERFORM api.update_me('{"confidence_meds": 5, "confidence_costs": 5, "confidence_overall": 5}');
    PERFORM tests.assert_eq(tests.cq_focus('2000-01-02'), 'financial');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_questions_conditions_from_the_profile()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM api.signup('{"email": "ann@example.com", "medication_status": "not_taking"}');
    PERFORM tests.assert_eq(
        ARRAY(SELECT q ->> 'id' FROM jsonb_array_elements(
            api.checkin_questions('{"date": "2000-01-01"}') -> 'questions') AS q),
        ARRAY['mood_today', 'confidence_today', 'medication_confidence_today', 'medication_concern_today'],
        'no "did you take it" question for someone not taking medication'
    );
    PERFORM api.update_medication_status('{"medication_status": "pregnancy_support"}');
    PERFORM tests.assert_eq(jsonb_array_length(api.checkin_questions('{"date": "2000-01-01"}') -> 'questions'), 5);
    -- the bank is data: a disabled question disappears, a new one appears, without a migration
    UPDATE public.checkin_questions SET enabled = FALSE WHERE id = 'medication_concern_today';
    INSERT INTO public.checkin_questions (id, focus_dimension, question_type, question, required, priority)
    VALUES ('side_effects_note', 'medication', 'text', 'Any side effects today?', FALSE, 13);
    PERFORM tests.assert_eq(
        ARRAY(SELECT q ->> 'id' FROM jsonb_array_elements(
            api.checkin_questions('{"date": "2000-01-01"}') -> 'questions') AS q),
        ARRAY['mood_today', 'confidence_today', 'medication_taken', 'medication_confidence_today', 'side_effects_note']
    );
END
$$;
