-- Insights: the rule language, the daily insight (rules, window, gate, idempotence), the insight
-- list, micro insights, engagement and feedback (isolation as the gateway role), erasure of the new rows.

-- A check-in of the current user on p_date through api.create_checkin; returns its id.
CREATE OR REPLACE FUNCTION tests.ins_checkin(p_date date, p_fields jsonb)
RETURNS uuid
LANGUAGE sql
AS $$
    SELECT (api.create_checkin(p_fields || jsonb_build_object('date_submitted', p_date::text)) #>> '{checkin,id}')::uuid
$$;

-- The daily rule that wins for the current user on local day p_today.
CREATE OR REPLACE FUNCTION tests.ins_rule(p_today date)
RETURNS text
LANGUAGE sql
AS $$
    SELECT m.rule_key
    FROM core.matching_rules(
        'daily', core.daily_insight_facts(core.current_user_id(), p_today) || '{"name": "Ann"}'::jsonb
    ) AS m
    ORDER BY m.priority DESC, m.rule_key
    LIMIT 1
$$;

-- A user whose profile is complete (baseline_completed), named in the claims; returns the id.
CREATE OR REPLACE FUNCTION tests.ins_complete_user(p_email text, p_tz text DEFAULT 'America/Los_Angeles')
RETURNS uuid
LANGUAGE sql
AS $$
    SELECT (api.signup(jsonb_build_object(
        'email', p_email, 'nickname', 'Ann', 'primary_need', 'emotional_support', 'cycle_stage', 'stimulation',
        'timezone', p_tz
    )) #>> '{user,id}')::uuid
$$;

CREATE OR REPLACE FUNCTION tests.test_rule_language()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    f jsonb := '{"n": 5, "x": 2.5, "s": "tww", "b": true, "z": null}';
    r record;
BEGIN
    PERFORM tests.assert_eq(core.rule_matches('{}', f), TRUE, 'empty condition');
    PERFORM tests.assert_eq(core.rule_matches(NULL, f), TRUE, 'no condition');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": "=", "value": 5}', f), TRUE, '=');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": "=", "value": 5.0}', f), TRUE, '5 = 5.0');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": "<>", "value": 5}', f), FALSE, '<>');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": ">=", "value": 5}', f), TRUE, '>= edge');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": ">", "value": 5}', f), FALSE, '> edge');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "x", "op": "<", "value": 2.6}', f), TRUE, '<');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "x", "op": "<=", "value": 2.4}', f), FALSE, '<=');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "s", "op": "=", "value": "tww"}', f), TRUE, 'string =');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "s", "op": "in", "value": ["ivf_prep", "tww"]}', f), TRUE);
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": "in", "value": [1, 2]}', f), FALSE);
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "b", "op": "=", "value": true}', f), TRUE, 'boolean');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "s", "op": ">", "value": 3}', f), FALSE, 'string vs number');
    -- absent and null facts never compare, whatever the operator
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "z", "op": "<=", "value": 2}', f), FALSE, 'null fact');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "nope", "op": "<>", "value": 2}', f), FALSE, 'absent fact');
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "z", "op": "is_null"}', f), TRUE);
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "nope", "op": "is_null"}', f), TRUE);
    PERFORM tests.assert_eq(core.rule_matches('{"fact": "n", "op": "not_null"}', f), TRUE);
    PERFORM tests.assert_eq(core.rule_matches('{"not": {"fact": "z", "op": "in", "value": [1]}}', f), TRUE, 'not');
    PERFORM tests.assert_eq(core.rule_matches(
        '{"all": [{"fact": "n", "op": ">", "value": 1}, {"fact": "s", "op": "=", "value": "x"}]}', f), FALSE, 'all');
    PERFORM tests.assert_eq(core.rule_matches(
        '{"any": [{"fact": "n", "op": ">", "value": 9}, {"fact": "s", "op": "=", "value": "tww"}]}', f), TRUE, 'any');
    PERFORM tests.assert_eq(core.rule_matches('{"all": []}', f), TRUE, 'empty all');
    PERFORM tests.assert_eq(core.rule_matches('{"any": []}', f), FALSE, 'empty any');
    PERFORM tests.assert_raises($q$SELECT core.rule_matches('{"fact": "n", "op": "~", "value": 1}', '{}')$q$, 'P0001',
        'core.rule_matches: unknown op%');
    PERFORM tests.assert_raises($q$SELECT core.rule_matches('{"when": 1}', '{}')$q$, 'P0001',
        'core.rule_matches: unknown condition%');

    PERFORM tests.assert_eq(core.render_template('Hi {name}, {n}/10 {missing}', '{"name": "Ann", "n": 7}'),
        'Hi Ann, 7/10 {missing}');
    PERFORM tests.assert_eq(core.render_template(NULL, '{}'), NULL);
    PERFORM tests.assert_eq(core.json_number('"7"'), 7::numeric);
    PERFORM tests.assert_eq(core.json_number('6.5'), 6.5);
    PERFORM tests.assert_eq(core.json_number('"seven"'), NULL);
    PERFORM tests.assert_eq(core.json_number('true'), NULL);

    -- Every seeded condition evaluates (no data error) on no facts, and every placeholder of the daily,
    -- micro and factor templates names a fact the functions provide.
    FOR r IN SELECT * FROM public.insight_rules LOOP
        PERFORM core.rule_matches(r.condition, '{}');
    END LOOP;
    FOR r IN
        SELECT q.rule_set, q.rule_key, m[1] AS placeholder
        FROM public.insight_rules AS q
        CROSS JOIN LATERAL regexp_matches(concat_ws(' ', q.title, q.message, q.sub_message), '\{(\w+)\}', 'g') AS m
    LOOP
        PERFORM tests.assert_true(r.placeholder = ANY (CASE r.rule_set
            WHEN 'daily' THEN ARRAY(SELECT jsonb_object_keys(core.daily_insight_facts(gen_random_uuid(), current_date)))
                || 'name'::text
            WHEN 'micro' THEN ARRAY['name', 'streak', 'total_checkins', 'days_since_last_checkin']
            WHEN 'micro_checkin' THEN ARRAY['name', 'confidence_today', 'anxiety_level', 'mood_score']
            WHEN 'micro_onboarding' THEN ARRAY['name', 'confidence_meds', 'confidence_costs', 'confidence_overall']
            ELSE ARRAY(SELECT jsonb_object_keys(core.metric_facts(gen_random_uuid(), current_date)))
        END), format('%s.%s uses {%s}', r.rule_set, r.rule_key, r.placeholder));
    END LOOP;
    -- every rule set that picks one rule has a fallback that always matches
    PERFORM tests.assert_eq(
        ARRAY(SELECT q.rule_set FROM public.insight_rules AS q WHERE q.condition = '{}' ORDER BY 1),
        ARRAY['completion', 'daily', 'micro', 'micro_checkin', 'micro_onboarding']
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_phq4_total()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_eq(core.phq4_total('{"phq4_feeling_nervous": 1, "phq4_stop_worrying": 2,
        "phq4_little_interest": 0, "phq4_feeling_down": 3, "phq4_score": 1}'), 6, 'the items win over phq4_score');
    PERFORM tests.assert_eq(core.phq4_total('{"phq4_feeling_nervous": 2, "phq4_feeling_down": null}'), 2,
        'unanswered items count 0');
    PERFORM tests.assert_eq(core.phq4_total('{"phq4_score": 9}'), 9, 'only the total');
    PERFORM tests.assert_eq(core.phq4_total('{"mood_today": "ok"}'), NULL, 'no PHQ-4');
    PERFORM tests.assert_eq(core.phq4_total('{"phq4_feeling_nervous": null}'), NULL, 'JSON null is not an answer');
END
$$;

-- Days, not records: the window is the 7 local days ending p_today; corrections, moves and deletions count as
-- the check-in's current state.
CREATE OR REPLACE FUNCTION tests.test_daily_facts_window_days_not_records()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    f jsonb;
    moved uuid;
    fixed uuid;
    gone uuid;
    lo date;
    hi date;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    f := core.daily_insight_facts(core.current_user_id(), t);
    PERFORM tests.assert_json_eq(f, jsonb_build_object(
        'checkins_analyzed', 0, 'window_start', '2025-06-09', 'window_end', '2025-06-15', 'latest_date', NULL,
        'latest_mood_score', NULL, 'latest_anxiety', NULL, 'latest_phq4_total', NULL, 'mood_scored_days', 0,
        'mood_earlier', NULL, 'mood_later', NULL, 'mood_change', NULL, 'medication_tracked_days', 0,
        'medication_taken_days', 0, 'medication_missed_days', 0, 'medication_partial_days', 0, 'missed_doses', 0
    ), 'no data');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'no_data');

    PERFORM tests.ins_checkin(t - 7, '{"mood_today": "devastated", "confidence_today": 1, "anxiety_level": 10}');
    PERFORM tests.ins_checkin(t + 1, '{"mood_today": "devastated", "confidence_today": 1, "anxiety_level": 10}');
    PERFORM tests.assert_eq(core.daily_insight_facts(core.current_user_id(), t) -> 'checkins_analyzed', '0'::jsonb,
        'the day before the window and the day after are outside');

    PERFORM tests.ins_checkin(t - 6, '{"mood_today": "hopeful", "confidence_today": 7, "medication_taken": "yes",
        "missed_doses": 1}');
    f := core.daily_insight_facts(core.current_user_id(), t);
    PERFORM tests.assert_eq(f ->> 'checkins_analyzed', '1', 'one day');
    PERFORM tests.assert_eq(f ->> 'latest_date', '2025-06-09');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'one ordinary day');

    -- a hard day, then corrected: only the corrected values count, once
    fixed := tests.ins_checkin(t - 2, '{"mood_today": "sad", "confidence_today": 2, "anxiety_level": 9}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'support_needed', 'before the correction');
    PERFORM api.update_checkin(jsonb_build_object('id', fixed, 'mood_today', 'great', 'anxiety_level', 3));
    PERFORM api.update_checkin(jsonb_build_object('id', fixed, 'confidence_today', 8));
    f := core.daily_insight_facts(core.current_user_id(), t);
    PERFORM tests.assert_eq(f ->> 'checkins_analyzed', '2', 'corrections are not extra days');
    PERFORM tests.assert_eq(f ->> 'latest_mood_score', '9.00', 'great');
    PERFORM tests.assert_eq(f ->> 'latest_anxiety', '3');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'after the correction');

    -- a check-in moved into the window by a correction counts on its new day only
    moved := tests.ins_checkin(t - 20, '{"mood_today": "okay", "confidence_today": 5, "medication_taken": "no",
        "missed_doses": 2}');
    PERFORM api.update_checkin(jsonb_build_object('id', moved, 'date_submitted', (t - 1)::text));
    f := core.daily_insight_facts(core.current_user_id(), t);
    PERFORM tests.assert_eq(f ->> 'checkins_analyzed', '3');
    PERFORM tests.assert_eq(f ->> 'latest_date', '2025-06-14');
    PERFORM tests.assert_eq(f ->> 'missed_doses', '3', '1 + 2');
    PERFORM tests.assert_eq(f ->> 'medication_missed_days', '1');
    -- a deleted check-in is gone
    gone := tests.ins_checkin(t, '{"mood_today": "terrible", "confidence_today": 1}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'support_needed');
    PERFORM api.delete_checkin(jsonb_build_object('id', gone));
    PERFORM tests.assert_eq(core.daily_insight_facts(core.current_user_id(), t) ->> 'checkins_analyzed', '3');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement');

    -- core.checkin_window (the read model) is the log's rebuild for a range, whatever was corrected, moved or deleted
    FOR lo, hi IN SELECT x.lo, x.hi FROM (VALUES (t - 30, t + 1), (t - 6, t), (t - 20, t - 20), (t - 2, t - 1))
        AS x (lo, hi) LOOP
        PERFORM tests.assert_json_eq(
            (SELECT coalesce(jsonb_agg(jsonb_build_array(w.id, w.date_submitted, w.fields) ORDER BY w.date_submitted),
                '[]') FROM core.checkin_window(core.current_user_id(), lo, hi) AS w),
            (SELECT coalesce(jsonb_agg(jsonb_build_array(l.id, l.date_submitted, l.fields) ORDER BY l.date_submitted),
                '[]') FROM public.daily_checkins_legacy AS l WHERE l.date_submitted BETWEEN lo AND hi),
            format('window %s .. %s', lo, hi)
        );
    END LOOP;
    PERFORM tests.assert_eq((SELECT count(*) FROM core.checkin_window(core.current_user_id(), t - 30, t + 1)), 5::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_rule_support_needed()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
BEGIN
    PERFORM tests.make_user('ann@example.com');
    -- anxiety 8 on an earlier day is not the latest day
    PERFORM tests.ins_checkin(t - 3, '{"mood_today": "okay", "confidence_today": 5, "anxiety_level": 8}');
    PERFORM tests.ins_checkin(t - 1, '{"mood_today": "okay", "confidence_today": 5, "anxiety_level": 7}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'anxiety 7 on the latest day');
    PERFORM tests.ins_checkin(t, '{"mood_today": "okay", "confidence_today": 5, "anxiety_level": 8}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'support_needed', 'anxiety 8 on the latest day');

    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.ins_checkin(t, '{"mood_today": "sad, tired", "confidence_today": 5}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'mood score 3 (mean of 2 and 4)');
    PERFORM tests.make_user('cy@example.com');
    PERFORM tests.ins_checkin(t, '{"mood_today": "Overwhelmed", "confidence_today": 5}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'support_needed', 'mood score 2, any case');
    PERFORM tests.make_user('di@example.com');
    PERFORM tests.ins_checkin(t, '{"mood_today": "blorp, zzz", "confidence_today": 1}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'unknown moods score null, never support');
    PERFORM tests.assert_eq(core.daily_insight_facts(core.current_user_id(), t) -> 'latest_mood_score', 'null'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_rule_assessment_alert_and_priority()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.ins_checkin(t - 1, '{"mood_today": "okay", "confidence_today": 5, "phq4_feeling_nervous": 2,
        "phq4_stop_worrying": 1, "phq4_little_interest": 1, "phq4_feeling_down": 1}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'PHQ-4 5');
    -- the latest PHQ-4 of the window counts even when the latest check-in did not answer it
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.ins_checkin(t - 2, '{"mood_today": "okay", "confidence_today": 5, "phq4_feeling_nervous": 3,
        "phq4_stop_worrying": 3}');
    PERFORM tests.ins_checkin(t, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'assessment_alert', 'PHQ-4 6');
    -- support_needed outranks assessment_alert
    PERFORM tests.make_user('cy@example.com');
    PERFORM tests.ins_checkin(t - 2, '{"mood_today": "okay", "confidence_today": 5, "phq4_score": 8}');
    PERFORM tests.ins_checkin(t, '{"mood_today": "okay", "confidence_today": 5, "anxiety_level": 9}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'support_needed', 'support first');
    -- assessment_alert outranks mood_improvement, perfect_adherence and consistency
    PERFORM tests.make_user('di@example.com');
    PERFORM tests.ins_checkin(t - 4, '{"mood_today": "sad", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t - 3, '{"mood_today": "okay", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t - 2, '{"mood_today": "good", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t - 1, '{"mood_today": "great", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t, '{"mood_today": "great", "confidence_today": 5, "medication_taken": "yes",
        "phq4_score": 7}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'assessment_alert');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_rule_mood_improvement()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    f jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.ins_checkin(t - 5, '{"mood_today": "sad", "confidence_today": 3}');
    PERFORM tests.ins_checkin(t - 3, '{"mood_today": "great", "confidence_today": 8}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'two scored days are not enough');
    PERFORM tests.ins_checkin(t - 4, '{"mood_today": "blorp", "confidence_today": 3}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'an unknown mood is not a scored day');
    PERFORM tests.ins_checkin(t - 1, '{"mood_today": "hopeful, anxious", "confidence_today": 6}');
    f := core.daily_insight_facts(core.current_user_id(), t);
    -- scored days in date order: 2 (sad), 9 (great), 5 (hopeful 7 + anxious 3): earlier half 2, later half 5
    PERFORM tests.assert_eq(f ->> 'mood_scored_days', '3');
    PERFORM tests.assert_eq(f ->> 'mood_earlier', '2.0');
    PERFORM tests.assert_eq(f ->> 'mood_later', '5.0');
    PERFORM tests.assert_eq(f ->> 'mood_change', '3.00');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'mood_improvement');
    -- a declining week is no improvement
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.ins_checkin(t - 2, '{"mood_today": "great", "confidence_today": 8}');
    PERFORM tests.ins_checkin(t - 1, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.ins_checkin(t, '{"mood_today": "tired", "confidence_today": 5}');
    PERFORM tests.assert_eq(core.daily_insight_facts(core.current_user_id(), t) ->> 'mood_change', '-5.00');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_rule_adherence_and_consistency()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    partial uuid;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.ins_checkin(t - 6, '{"mood_today": "okay", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t - 5, '{"mood_today": "okay", "confidence_today": 5, "medication_taken": "yes"}');
    PERFORM tests.ins_checkin(t - 4, '{"mood_today": "okay", "confidence_today": 5,
        "medication_taken": "not_applicable"}');
    PERFORM tests.ins_checkin(t - 3, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', 'two tracked answers only');
    partial := tests.ins_checkin(t - 2, '{"mood_today": "okay", "confidence_today": 5, "medication_taken": "partial"}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'consistency', 'partial is not perfect; 5 of 7 days');
    PERFORM api.update_checkin(jsonb_build_object('id', partial, 'medication_taken', 'yes'));
    PERFORM tests.assert_eq(tests.ins_rule(t), 'perfect_adherence', 'three yes, n/a and not tracked not counted');
    -- consistency needs 5 of the 7 days
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.ins_checkin(t - d, '{"mood_today": "okay", "confidence_today": 5}') FROM generate_series(0, 3) AS d;
    PERFORM tests.assert_eq(tests.ins_rule(t), 'encouragement', '4 days');
    PERFORM tests.ins_checkin(t - 6, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(tests.ins_rule(t), 'consistency', '5 days, with a gap');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_daily_insight_gate()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    e jsonb;
BEGIN
    PERFORM api.signup('{"email": "new@example.com", "nickname": "Neo", "onboarding_path": "control"}');
    e := tests.error_of('SELECT api.daily_insight()');
    PERFORM tests.assert_json_eq(e, jsonb_build_object(
        'state', 'NV403', 'message', 'Complete your profile to unlock personalized insights',
        'detail', jsonb_build_object('code', 'ONBOARDING_REQUIRED', 'requires_onboarding_completion', TRUE,
            'user_status', jsonb_build_object('onboarding_path', 'control', 'baseline_completed', FALSE,
                'has_nickname', TRUE, 'has_primary_need', FALSE, 'has_cycle_stage', FALSE))
    ));
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insights), 0::bigint, 'nothing stored');
    -- completing the profile (every baseline answer) opens the gate
    PERFORM api.update_me('{"primary_need": "emotional_support", "cycle_stage": "ivf_prep"}');
    PERFORM tests.assert_eq(api.daily_insight() ->> 'success', 'true');
    -- an explicit baseline_completed false closes it again
    PERFORM api.update_me('{"baseline_completed": false}');
    PERFORM tests.assert_raises('SELECT api.daily_insight()', 'NV403', 'Complete your profile%');
    PERFORM api.update_baseline('{}');
    PERFORM tests.assert_eq(api.daily_insight() ->> 'success', 'true', 'the baseline route completes it');
    PERFORM set_config('request.jwt.claims', '', true);
    PERFORM tests.assert_raises('SELECT api.daily_insight()', 'NV401', 'Access token required');
    PERFORM tests.as_user('ghost@example.com');
    PERFORM tests.assert_raises('SELECT api.daily_insight()', 'NV404', 'User not found');
END
$$;

-- The stored insight of the day is returned again only while what it was computed from is unchanged: a new,
-- corrected or retracted check-in (any later event), a new name or an edited rule gives a new one; the earlier
-- ones stay in the history.
CREATE OR REPLACE FUNCTION tests.test_daily_insight_reused_while_inputs_unchanged()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ins_complete_user('ann@example.com');
    today date := core.local_date(uid);
    r1 jsonb;
    r2 jsonb;
    r3 jsonb;
    hard uuid;
    row public.insights;
    ids text[];
BEGIN
    PERFORM tests.ins_checkin(today - 1, '{"mood_today": "hopeful", "confidence_today": 7}');
    r1 := api.daily_insight();
    SELECT * INTO row FROM public.insights AS i WHERE i.user_id = uid;
    PERFORM tests.assert_json_eq(r1, jsonb_build_object(
        'success', TRUE,
        'insight', jsonb_build_object('id', row.id, 'type', 'encouragement', 'title', 'Every check-in counts',
            'message', 'You checked in on 1 of the last 7 days, Ann. Keep going: each one helps you see your '
            'patterns more clearly.', 'icon', '🌟', 'confidence', 0.38),
        'analysis_data', jsonb_build_object('checkins_analyzed', 1,
            'date_range', (today - 6)::text || ' to ' || today::text, 'user_id', uid,
            'generated_at', core.iso(row.created_at))
    ));
    PERFORM tests.assert_eq(row.category, 'daily');
    PERFORM tests.assert_eq(row.local_date, today);
    PERFORM tests.assert_eq(row.priority, 1::smallint);
    PERFORM tests.assert_eq(row.analysis_data ->> 'rule', 'encouragement');
    PERFORM tests.assert_eq(row.analysis_data #>> '{facts,checkins_analyzed}', '1', 'the facts are kept');
    PERFORM tests.assert_eq(row.inputs_fingerprint, core.daily_insight_inputs(uid,
        core.daily_insight_facts(uid, today) || '{"name": "Ann"}'), 'the inputs are kept');

    -- nothing changed: the same insight, nothing stored
    PERFORM tests.assert_json_eq(api.daily_insight(), r1, 'asked twice: the same insight');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insights), 1::bigint, 'one row');

    -- a new check-in: a new insight from it, the earlier one stays listed
    hard := tests.ins_checkin(today, '{"mood_today": "devastated", "confidence_today": 1}');
    r2 := api.daily_insight();
    PERFORM tests.assert_eq(r2 #>> '{insight,type}', 'support_needed', 'computed from the new check-in');
    PERFORM tests.assert_eq(r2 #>> '{insight,confidence}', '0.78', '0.70 + 2 days x 0.04');
    PERFORM tests.assert_true(r2 #>> '{insight,id}' <> r1 #>> '{insight,id}', 'a new insight');
    PERFORM tests.assert_json_eq(api.daily_insight(), r2, 'then reused while nothing changes');
    PERFORM tests.assert_eq(
        ARRAY(SELECT e ->> 'id' FROM jsonb_array_elements(api.list_insights() -> 'insights') AS e),
        ARRAY[r2 #>> '{insight,id}', r1 #>> '{insight,id}'], 'the history, newest first'
    );
    PERFORM tests.assert_eq(api.daily_summary() #>> '{summary,insights,0,id}', r2 #>> '{insight,id}',
        'the daily summary lists the day''s insights, the current one first');

    -- a correction of that check-in
    PERFORM api.update_checkin(jsonb_build_object('id', hard, 'mood_today', 'great'));
    r3 := api.daily_insight();
    PERFORM tests.assert_eq(r3 #>> '{insight,type}', 'encouragement', 'computed from the corrected values');
    PERFORM tests.assert_true(NOT r3 #>> '{insight,id}' = ANY (ARRAY[r1 #>> '{insight,id}', r2 #>> '{insight,id}']),
        'a new one');

    -- a retraction, even one that brings the figures back to those of the first insight: a new insight
    PERFORM api.delete_checkin(jsonb_build_object('id', hard));
    r3 := api.daily_insight();
    PERFORM tests.assert_eq(r3 #>> '{insight,message}', r1 #>> '{insight,message}', 'the same figures as at first');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insights), 4::bigint, 'but stored anew');
    PERFORM tests.assert_json_eq(api.daily_insight(), r3, 'and reused');

    -- any later event of the user, a new name, an edited rule
    PERFORM tests.add_event('sleep', '{"hours": 7}', core.iso(now()));
    PERFORM tests.assert_true(api.daily_insight() #>> '{insight,id}' <> r3 #>> '{insight,id}', 'after an event');
    PERFORM api.update_me('{"nickname": "Annie"}');
    PERFORM tests.assert_true(strpos(api.daily_insight() #>> '{insight,message}', 'Annie') > 0, 'the new name');
    UPDATE public.insight_rules SET message = 'Onwards, {name}.' WHERE rule_set = 'daily' AND rule_key = 'encouragement';
    PERFORM tests.assert_eq(api.daily_insight() #>> '{insight,message}', 'Onwards, Annie.', 'the edited rule');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insights), 7::bigint);
    SELECT array_agg(DISTINCT i.inputs_fingerprint) INTO ids FROM public.insights AS i;
    PERFORM tests.assert_eq(cardinality(ids), 7, 'each from other inputs');

    -- a stored insight of another day does not count for today, even with the same inputs
    UPDATE public.insights SET local_date = today - 1 WHERE user_id = uid;
    r1 := api.daily_insight();
    PERFORM tests.assert_eq((SELECT i.local_date FROM public.insights AS i WHERE i.id = (r1 #>> '{insight,id}')::uuid),
        today, 'a new day, a new insight');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insights), 8::bigint);
END
$$;

-- The day is the user's local day: a user at UTC+14 and one at UTC-11 have different todays at the same
-- instant, and the stored insight carries each one's own local date.
CREATE OR REPLACE FUNCTION tests.test_daily_insight_timezone_boundaries()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    east uuid := tests.ins_complete_user('east@example.com', 'Pacific/Kiritimati');
    west uuid;
    east_today date := (now() AT TIME ZONE 'Pacific/Kiritimati')::date;
    west_today date := (now() AT TIME ZONE 'Pacific/Pago_Pago')::date;
BEGIN
    PERFORM tests.assert_true(east_today - west_today BETWEEN 1 AND 2, '25 hours apart: always different days');
    PERFORM tests.ins_checkin(east_today - 6, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.ins_checkin(east_today - 7, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(api.daily_insight() #>> '{analysis_data,checkins_analyzed}', '1', 'east');
    PERFORM tests.assert_eq((SELECT i.local_date FROM public.insights AS i WHERE i.user_id = east), east_today);

    west := tests.ins_complete_user('west@example.com', 'Pacific/Pago_Pago');
    -- the same calendar dates: for the west user east_today - 7 is inside the window (west_today - 6)
    PERFORM tests.ins_checkin(east_today - 6, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.ins_checkin(east_today - 7, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(api.daily_insight() #>> '{analysis_data,checkins_analyzed}', '2', 'west');
    PERFORM tests.assert_eq(api.daily_insight() #>> '{analysis_data,date_range}',
        (west_today - 6)::text || ' to ' || west_today::text);
    PERFORM tests.assert_eq((SELECT i.local_date FROM public.insights AS i WHERE i.user_id = west), west_today);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_list_insights()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    r jsonb;
BEGIN
    INSERT INTO public.insights (user_id, insight_type, category, title, message, icon, confidence, local_date,
        created_at, priority)
    SELECT uid, 'encouragement', 'daily', 'T' || n, 'M' || n, '🌟', 0.5, DATE '2025-01-01' + n,
        TIMESTAMPTZ '2025-01-01 12:00Z' + n * INTERVAL '1 day', 3
    FROM generate_series(1, 25) AS n;
    PERFORM tests.make_user('bob@example.com');
    INSERT INTO public.insights (user_id, insight_type, title, message, local_date, created_at)
    VALUES (core.current_user_id(), 'no_data', 'Bob''s', 'x', DATE '2025-06-01', TIMESTAMPTZ '2025-06-01 12:00Z');
    PERFORM tests.as_user('ann@example.com');

    r := api.list_insights();
    PERFORM tests.assert_eq(r ->> 'count', '20', 'default limit 20');
    PERFORM tests.assert_eq(jsonb_array_length(r -> 'insights'), 20);
    PERFORM tests.assert_json_eq(r #> '{insights,0}', jsonb_build_object(
        'id', (SELECT i.id FROM public.insights AS i WHERE i.title = 'T25'), 'type', 'encouragement',
        'category', 'daily', 'title', 'T25', 'message', 'M25', 'icon', '🌟', 'confidence', 0.50, 'priority', 3,
        'date', '2025-01-26', 'created_at', '2025-01-26T12:00:00.000+00:00'
    ), 'newest first, never Bob''s');
    PERFORM tests.assert_eq(r #>> '{insights,19,title}', 'T6');
    PERFORM tests.assert_eq(api.list_insights('{"limit": "100"}') ->> 'count', '25', 'all of Ann''s');
    PERFORM tests.assert_eq(api.list_insights('{"limit": 1}') #>> '{insights,0,title}', 'T25');
    PERFORM tests.assert_raises($q$SELECT api.list_insights('{"limit": "0"}')$q$, 'NV400',
        'limit must be between 1 and 100');
    PERFORM tests.assert_raises($q$SELECT api.list_insights('{"limit": "101"}')$q$, 'NV400');
    PERFORM tests.assert_raises($q$SELECT api.list_insights('{"limit": "ten"}')$q$, 'NV400', 'limit must be an integer');
    PERFORM tests.make_user('cy@example.com');
    PERFORM tests.assert_json_eq(api.list_insights(), '{"success": true, "insights": [], "count": 0}');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_micro_insight_get()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ins_complete_user('ann@example.com');
    today date := core.local_date(uid);
BEGIN
    PERFORM tests.assert_json_eq(api.micro_insight(), '{"success": true, "insight": {"type": "welcome",
        "message": "Welcome, Ann! 🌱", "subMessage": "Your first check-in takes less than a minute.",
        "icon": "🌱"}}', 'no check-in yet');
    PERFORM tests.ins_checkin(today - 3, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(api.micro_insight() #>> '{insight,type}', 'welcome_back', '3 days since');
    PERFORM tests.ins_checkin(today - 2, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_json_eq(api.micro_insight() -> 'insight', '{"type": "encouragement",
        "message": "Ready for today''s check-in, Ann?", "subMessage": "A minute of reflection can make the day lighter.",
        "icon": "✨"}', 'fallback');
    PERFORM tests.ins_checkin(today, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_eq(api.micro_insight() #>> '{insight,message}', 'Thanks for checking in today, Ann.',
        'checked in today, streak 1');
    PERFORM tests.ins_checkin(today - 1, '{"mood_today": "okay", "confidence_today": 5}');
    PERFORM tests.assert_json_eq(api.micro_insight() -> 'insight', '{"type": "streak", "message": "4 days in a row, Ann!",
        "subMessage": "Your check-ins are building a clear picture of your journey.", "icon": "🔥"}');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_micro_insight_post()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM api.signup('{"email": "ann@example.com", "nickname": "Ann", "confidence_meds": 4,
        "confidence_costs": 3, "confidence_overall": 3}');
    -- check-in data: the rules over what was sent
    PERFORM tests.assert_json_eq(api.create_micro_insight('{"checkinData": {"mood_today": "anxious, sad",
        "confidence_today": 6}}'), '{"success": true, "micro_insight": {"title": "Thank you for being honest",
        "message": "Hard days are part of this journey, Ann. A few slow breaths or a short walk can take the edge off.",
        "action": {"label": "Try a breathing exercise", "type": "breathing"}, "type": "support", "icon": "💙"}}');
    PERFORM tests.assert_eq(api.create_micro_insight('{"checkinData": {"mood_today": "okay", "confidence_today": 5,
        "anxiety_level": "7"}}') #>> '{micro_insight,type}', 'support', 'anxiety as a string');
    PERFORM tests.assert_eq(api.create_micro_insight('{"checkinData": {"mood_today": "okay", "confidence_today": 5,
        "medication_taken": "no"}}') #>> '{micro_insight,type}', 'medication');
    PERFORM tests.assert_eq(api.create_micro_insight('{"checkinData": {"mood_today": "okay", "missed_doses": 1}}')
        #>> '{micro_insight,action,type}', 'reminder');
    PERFORM tests.assert_json_eq(api.create_micro_insight('{"checkinData": {"mood_today": "okay",
        "confidence_today": "9"}}') -> 'micro_insight', '{"title": "You''re feeling strong",
        "message": "Your confidence today is 9/10. Notice what helped, so you can come back to it.", "action": null,
        "type": "celebration", "icon": "🎉"}');
    PERFORM tests.assert_eq(api.create_micro_insight('{"checkinData": {"mood_today": "okay", "confidence_today": 5}}')
        #>> '{micro_insight,type}', 'encouragement');
    PERFORM tests.assert_eq(api.create_micro_insight('{"checkinData": {"mood_today": 7, "confidence_today": [1]}}')
        #>> '{micro_insight,type}', 'encouragement', 'values of the wrong type are ignored, never an error');

    -- onboarding data over the profile: the lowest confidence <= 4 wins; ties go to the rotation from today
    PERFORM tests.assert_eq(api.create_micro_insight('{"onboardingData": {"confidence_costs": 2}}')
        #>> '{micro_insight,message}', 'You rated your confidence about costs 2/10. Many people feel this way; we '
        'will share practical ways to plan treatment costs.');
    PERFORM tests.assert_eq(api.create_micro_insight('{"onboardingData": {"confidence_costs": "9",
        "confidence_overall": 8}}') #>> '{micro_insight,type}', 'medication', 'meds 4 is now the only low one');
    PERFORM tests.assert_eq(api.create_micro_insight('{"onboardingData": {"confidence_meds": 5, "confidence_costs": 5,
        "confidence_overall": 5, "cycle_stage": "tww", "nickname": "Annie"}}') #>> '{micro_insight,message}',
        'Waiting is one of the hardest parts, Annie. Daily check-ins can help you ride the ups and downs.');
    PERFORM tests.assert_json_eq(api.create_micro_insight('{"onboardingData": {"confidence_meds": 5,
        "confidence_costs": 5, "confidence_overall": 5}}') -> 'micro_insight', '{"title": "Welcome, Ann",
        "message": "Your daily check-ins will be tailored to you. The first one takes less than a minute.",
        "action": {"label": "Start your first check-in", "type": "checkin"}, "type": "welcome", "icon": "🌱"}',
        'no low confidence');
    PERFORM tests.assert_eq(api.create_micro_insight('{"onboardingData": {"confidence_meds": 5,
        "confidence_costs": 5, "confidence_overall": 11}}') #>> '{micro_insight,type}', 'journey',
        'an out-of-range value is ignored: the profile''s overall 3 stands');
    PERFORM tests.assert_true(api.create_micro_insight() #>> '{micro_insight,type}' IN ('financial', 'journey'),
        'no body: the profile (costs 3 and overall 3 tie; the rotation decides)');
    PERFORM tests.assert_raises($q$SELECT api.create_micro_insight('{"checkinData": "x"}')$q$, 'NV400',
        'checkinData must be an object');
    PERFORM tests.assert_raises($q$SELECT api.create_micro_insight('{"onboardingData": [1]}')$q$, 'NV400',
        'onboardingData must be an object');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_engagement_recorded_validated()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ins_complete_user('ann@example.com');
    mine uuid;
    theirs uuid;
    g public.insight_engagement;
BEGIN
    mine := (api.daily_insight() #>> '{insight,id}')::uuid;
    PERFORM tests.ins_complete_user('bob@example.com');
    theirs := (api.daily_insight() #>> '{insight,id}')::uuid;
    PERFORM tests.as_user('ann@example.com');

    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'viewed',
        'insight_id', mine)), '{"success": true, "message": "Engagement recorded"}');
    SELECT * INTO g FROM public.insight_engagement;
    PERFORM tests.assert_eq(
        array[g.user_id::text, g.insight_id::text, g.insight_type, g.action, g.local_date::text],
        array[uid::text, mine::text, 'daily', 'viewed', core.local_date(uid)::text]
    );
    PERFORM api.record_engagement('{"insight_type": " micro ", "action": "dismissed"}');
    PERFORM tests.assert_eq((SELECT e.insight_type FROM public.insight_engagement AS e WHERE e.insight_id IS NULL),
        'micro', 'trimmed; insight_id optional');

    PERFORM tests.assert_json_eq(tests.error_of($q$SELECT api.record_engagement('{"action": "viewed"}')$q$),
        '{"state": "NV400", "message": "Missing required fields: insight_type, action", "detail": {"code":
        "VALIDATION_ERROR", "fields": ["insight_type", "action"]}}');
    PERFORM tests.assert_raises($q$SELECT api.record_engagement('{"insight_type": "daily", "action": null}')$q$,
        'NV400', 'Missing required fields: insight_type, action');
    PERFORM tests.assert_raises($q$SELECT api.record_engagement('{"insight_type": "daily", "action": "shared"}')$q$,
        'NV400', 'action must be one of: viewed, clicked, dismissed, refreshed, liked, saved');
    PERFORM tests.assert_raises($q$SELECT api.record_engagement('{"insight_type": 5, "action": "viewed"}')$q$,
        'NV400', 'insight_type must be a string');
    PERFORM tests.assert_raises($q$SELECT api.record_engagement('{"insight_type": "  ", "action": "viewed"}')$q$,
        'NV400', 'insight_type must not be empty');
    PERFORM tests.assert_raises(format('SELECT api.record_engagement(%L)', jsonb_build_object('insight_type',
        repeat('x', 51), 'action', 'viewed')), 'NV400', 'insight_type must be at most 50 characters');
    PERFORM tests.assert_raises(format('SELECT api.record_engagement(%L)', jsonb_build_object('insight_type', 'd',
        'action', 'viewed', 'insight_id', repeat('x', 201))), 'NV400', 'insight_id must be at most 200 characters');
    PERFORM tests.assert_raises($q$SELECT api.record_engagement('{"insight_type": "d", "action": "viewed",
        "insight_id": 17}')$q$, 'NV400', 'insight_id must be a string');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement), 2::bigint, 'nothing else stored');

    -- The app's own reference ("<type>_<milliseconds>") is kept verbatim; an upper-case UUID of one of the
    -- caller's insights is linked; another user's insight and an unknown UUID are references, the same answer.
    PERFORM tests.assert_json_eq(api.record_engagement('{"insight_type": "no_data", "action": "viewed",
        "insight_id": "no_data_1796605127098"}'), '{"success": true, "message": "Engagement recorded"}');
    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'clicked',
        'insight_id', upper(mine::text))), '{"success": true, "message": "Engagement recorded"}');
    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'liked',
        'insight_id', theirs)), '{"success": true, "message": "Engagement recorded"}', 'another user''s insight');
    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'liked',
        'insight_id', gen_random_uuid())), '{"success": true, "message": "Engagement recorded"}', 'an unknown UUID');
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'd', 'action', 'saved', 'insight_id', ' ',
        'user_id', gen_random_uuid()));
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'd', 'action', 'saved',
        'insight_id', repeat('é', 200)));
    PERFORM tests.assert_eq(
        ARRAY(SELECT concat_ws('|', e.action, e.insight_id, e.client_ref) FROM public.insight_engagement AS e
            WHERE e.user_id = uid ORDER BY 1),
        ARRAY(SELECT x FROM unnest(ARRAY['viewed|' || mine, 'dismissed', 'viewed|no_data_1796605127098',
            'clicked|' || mine, 'liked|' || theirs,
            'liked|' || (SELECT e.client_ref FROM public.insight_engagement AS e WHERE e.action = 'liked'
                AND e.client_ref <> theirs::text),
            'saved|' || repeat('é', 200), 'saved']) AS x ORDER BY 1),
        'linked, kept as a reference (another user''s insight never linked), or none (blank)'
    );
    PERFORM tests.as_user('bob@example.com');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement AS e WHERE e.insight_id = theirs),
        0::bigint, 'nothing is linked to Bob''s insight');
END
$$;

-- As the gateway role: each user sees and counts only their own engagement, and cannot write directly.
CREATE OR REPLACE FUNCTION tests.test_engagement_isolated_as_gateway()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.ins_complete_user('ann@example.com');
    b uuid := tests.ins_complete_user('bob@example.com');
    today_a date := core.local_date(a);
    ia uuid;
    ib uuid;
    s jsonb;
    r jsonb;
BEGIN
    PERFORM tests.as_gateway(jsonb_build_object('email', 'ann@example.com'));
    ia := (api.daily_insight() #>> '{insight,id}')::uuid;
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'viewed', 'insight_id', ia));
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'liked', 'insight_id', ia));
    PERFORM tests.ins_checkin(today_a, '{"mood_today": "okay", "confidence_today": 5}');

    PERFORM tests.as_gateway(jsonb_build_object('id', b, 'email', 'bob@example.com'));
    ib := (api.daily_insight() #>> '{insight,id}')::uuid;
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'dismissed', 'insight_id', ib));
    PERFORM api.record_engagement('{"insight_type": "micro", "action": "viewed"}');
    PERFORM api.record_engagement('{"insight_type": "micro", "action": "viewed"}');
    PERFORM api.record_engagement('{"insight_type": "micro", "action": "clicked"}');
    -- B's view: B's rows only
    s := api.engagement() -> 'engagement';
    PERFORM tests.assert_json_eq((s -> 'summary') - 'period', '{"checkins": 0, "insights_viewed": 2,
        "engagement_rate": 0}', 'B: two views without insight id, the daily one dismissed');
    PERFORM tests.assert_eq(
        ARRAY(SELECT x ->> 'insight_type' || ':' || (x ->> 'total') FROM jsonb_array_elements(s -> 'insights') AS x),
        ARRAY['micro:3', 'daily:1']
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement), 4::bigint, 'B sees 4 rows');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement WHERE insight_id = ib), 1::bigint);
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement WHERE user_id = a), 0::bigint);
    PERFORM tests.assert_raises(format(
        $q$INSERT INTO public.insight_engagement (user_id, insight_type, action, local_date)
           VALUES (%L, 'x', 'viewed', current_date)$q$, b), '42501', NULL, 'no direct writes');
    PERFORM tests.assert_raises(
        $q$INSERT INTO public.insight_feedback (user_id, insight_id, helpful) VALUES (gen_random_uuid(),
           gen_random_uuid(), true)$q$, '42501');
    -- B cannot link A's insight, not even to dismiss it: it is kept as B's own reference, answered like any
    -- unknown id, and A's figures do not change
    PERFORM tests.assert_json_eq(api.record_engagement(jsonb_build_object('insight_type', 'daily',
        'action', 'dismissed', 'insight_id', ia)), '{"success": true, "message": "Engagement recorded"}');
    r := api.insight_feedback(jsonb_build_object('insight_id', ia, 'helpful', FALSE));
    PERFORM tests.assert_json_eq((r -> 'feedback') - 'id' - 'created_at' - 'updated_at', jsonb_build_object(
        'insight_id', ia, 'linked', FALSE, 'helpful', FALSE, 'comment', NULL), 'not linked');
    PERFORM tests.assert_json_eq((api.insight_feedback(jsonb_build_object('insight_id', gen_random_uuid(),
        'helpful', FALSE)) -> 'feedback') - 'id' - 'created_at' - 'updated_at' - 'insight_id',
        '{"linked": false, "helpful": false, "comment": null}', 'the same answer for an unknown UUID');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_feedback WHERE insight_id IS NOT NULL), 0::bigint);

    -- A's view: A's rows only
    PERFORM tests.as_gateway(jsonb_build_object('email', 'ann@example.com'));
    s := api.engagement() -> 'engagement';
    PERFORM tests.assert_json_eq(s -> 'summary', jsonb_build_object('checkins', 1, 'insights_viewed', 1,
        'engagement_rate', 100, 'period', jsonb_build_object('days', 30,
        'start_date', (today_a - 29)::text, 'end_date', today_a::text)));
    PERFORM tests.assert_eq(jsonb_array_length(s -> 'insights'), 1);
    PERFORM tests.assert_json_eq((s #> '{insights,0}') - 'last_engaged_at', '{"insight_type": "daily", "viewed": 1,
        "clicked": 0, "dismissed": 0, "refreshed": 0, "liked": 1, "saved": 0, "total": 2}');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement), 2::bigint, 'A sees 2 rows');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_feedback), 0::bigint, 'and none of B''s feedback');
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,insightInteractionRate}', '100');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement), 7::bigint, 'seven rows in all');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement WHERE insight_id = ia), 2::bigint,
        'A''s insight is linked by A''s rows only');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_insight_feedback()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ins_complete_user('ann@example.com');
    ins uuid := (api.daily_insight() #>> '{insight,id}')::uuid;
    r jsonb;
    f public.insight_feedback;
BEGIN
    r := api.insight_feedback(jsonb_build_object('insight_id', ins, 'helpful', TRUE, 'comment', ' Spot on '));
    SELECT * INTO f FROM public.insight_feedback;
    PERFORM tests.assert_json_eq(r, jsonb_build_object('success', TRUE, 'message', 'Feedback recorded',
        'feedback', jsonb_build_object('id', f.id, 'insight_id', ins, 'linked', TRUE, 'helpful', TRUE,
            'comment', 'Spot on', 'created_at', core.iso(f.created_at), 'updated_at', core.iso(f.updated_at))));
    PERFORM tests.assert_eq(f.user_id, uid);
    -- the latest answer replaces the earlier one
    PERFORM api.insight_feedback(jsonb_build_object('insight_id', ins::text, 'helpful', FALSE));
    PERFORM tests.assert_eq((SELECT array[count(*)::text, bool_and(x.helpful)::text, max(x.comment)]
        FROM public.insight_feedback AS x), array['1', 'false', NULL]);

    PERFORM tests.assert_json_eq(tests.error_of($q$SELECT api.insight_feedback('{"helpful": true}')$q$),
        '{"state": "NV400", "message": "Missing required fields: insight_id, helpful", "detail": {"code":
        "VALIDATION_ERROR", "fields": ["insight_id", "helpful"]}}');
    PERFORM tests.assert_raises(format('SELECT api.insight_feedback(%L)', jsonb_build_object('insight_id', ins)),
        'NV400', 'Missing required fields: insight_id, helpful');
    PERFORM tests.assert_raises(format('SELECT api.insight_feedback(%L)', jsonb_build_object('insight_id', ins,
        'helpful', NULL)), 'NV400', 'Missing required fields: insight_id, helpful');
    PERFORM tests.assert_raises(format('SELECT api.insight_feedback(%L)', jsonb_build_object('insight_id', ins,
        'helpful', 'yes')), 'NV400', 'helpful must be true or false');
    PERFORM tests.assert_raises(format('SELECT api.insight_feedback(%L)', jsonb_build_object('insight_id', ins,
        'helpful', TRUE, 'comment', repeat('x', 2001))), 'NV400', 'comment must be at most 2000 characters');
    PERFORM tests.assert_raises($q$SELECT api.insight_feedback('{"insight_id": " ", "helpful": true}')$q$, 'NV400',
        'insight_id must not be empty');
    PERFORM tests.assert_raises($q$SELECT api.insight_feedback('{"insight_id": 7, "helpful": true}')$q$, 'NV400',
        'insight_id must be a string');
    PERFORM tests.assert_raises(format('SELECT api.insight_feedback(%L)', jsonb_build_object(
        'insight_id', repeat('x', 201), 'helpful', TRUE)), 'NV400', 'insight_id must be at most 200 characters');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_feedback), 1::bigint);

    -- a reference of the client's own: kept verbatim, one answer per reference (the latest wins)
    r := api.insight_feedback('{"insight_id": "i_no_data_1796605127098", "helpful": true, "comment": "nice",
        "insight_context": {"sentiment": "neutral"}, "timestamp": "2026-12-07T10:00:00.000Z"}');
    PERFORM tests.assert_json_eq((r -> 'feedback') - 'id' - 'created_at' - 'updated_at', '{"insight_id":
        "i_no_data_1796605127098", "linked": false, "helpful": true, "comment": "nice"}');
    PERFORM api.insight_feedback('{"insight_id": "i_no_data_1796605127098", "helpful": false}');
    PERFORM api.insight_feedback(jsonb_build_object('insight_id', gen_random_uuid(), 'helpful', TRUE));
    PERFORM tests.assert_eq(
        ARRAY(SELECT concat_ws('|', x.insight_id, x.client_ref ~ '^i_', x.client_ref ~ '^[0-9a-f-]{36}$',
            x.helpful)::text FROM public.insight_feedback AS x ORDER BY 1),
        ARRAY(SELECT x FROM unnest(ARRAY[ins || '|f', 'f|t|t', 't|f|f']) AS x ORDER BY 1),
        'the linked answer, the reference''s latest answer, an unknown UUID kept as a reference'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_erasure_removes_engagement_and_feedback()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.ins_complete_user('ann@example.com');
    b uuid;
    r jsonb;
BEGIN
    PERFORM api.record_engagement(jsonb_build_object('insight_type', 'daily', 'action', 'viewed',
        'insight_id', api.daily_insight() #>> '{insight,id}'));
    PERFORM api.record_engagement('{"insight_type": "micro", "action": "viewed"}');
    PERFORM api.insight_feedback(jsonb_build_object('insight_id', api.daily_insight() #>> '{insight,id}',
        'helpful', TRUE));
    b := tests.ins_complete_user('bob@example.com');
    PERFORM api.insight_feedback(jsonb_build_object('insight_id', api.daily_insight() #>> '{insight,id}',
        'helpful', TRUE));
    r := core.erase_user(a, 'test');
    PERFORM tests.assert_eq(
        array[r ->> 'insights_deleted', r ->> 'insight_engagement_deleted', r ->> 'insight_feedback_deleted'],
        array['1', '2', '1']
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.insight_engagement), 0::bigint);
    PERFORM tests.assert_eq((SELECT array_agg(f.user_id) FROM public.insight_feedback AS f), array[b], 'B''s kept');
END
$$;
