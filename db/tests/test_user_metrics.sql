-- GET /api/users/metrics: every definition of docs/metrics.md, on fixed local days (core.user_metrics(uid, day)).

-- A check-in of the current user on p_date through api.create_checkin; returns its id.
CREATE OR REPLACE FUNCTION tests.um_checkin(p_date date, p_fields jsonb)
RETURNS uuid
LANGUAGE sql
AS $$
    SELECT (api.create_checkin(
        jsonb_build_object('mood_today', 'okay', 'confidence_today', 5) || p_fields
        || jsonb_build_object('date_submitted', p_date::text)
    ) #>> '{checkin,id}')::uuid
$$;

-- A user who signed up on 2025-01-01 (so the check-in rate has a full 30-day base in June 2025).
CREATE OR REPLACE FUNCTION tests.um_user(p_email text)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user(p_email);
BEGIN
    UPDATE public.users SET created_at = TIMESTAMPTZ '2025-01-01 12:00Z' WHERE id = uid;
    RETURN uid;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_without_data()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.um_user('ann@example.com');
BEGIN
    -- as the web app reads them: numbers where it computes or draws (0: no data; it shows "—" for a zero
    -- adherence), a trend it compares with 'stable', null where it tells "no data" apart, arrays never null
    PERFORM tests.assert_json_eq(core.user_metrics(uid, DATE '2025-06-15'), '{
        "medicationAdherenceRate": 0, "medicationAdherenceTrend": "stable", "missedDosesLastWeek": 0,
        "totalMedicationCheckIns": 0, "averageMoodScore": null, "currentPHQ4Score": null, "phq4Trend": null,
        "anxietyAverage": null, "checkInStreak": 0, "totalCheckIns": 0, "insightEngagementRate": 0,
        "insightInteractionRate": null, "copingStrategiesUsed": [], "mostEffectiveStrategy": null,
        "partnerInvolvementRate": 0, "cycleCompletionProbability": 50, "riskFactors": [], "protectiveFactors": []}');
    -- the route: the same keys, for the caller's local today
    PERFORM tests.assert_eq(
        ARRAY(SELECT jsonb_object_keys(api.user_metrics() -> 'metrics') ORDER BY 1),
        ARRAY(SELECT jsonb_object_keys(core.user_metrics(uid, DATE '2025-06-15')) ORDER BY 1)
    );
    PERFORM tests.assert_eq(api.user_metrics() ->> 'success', 'true');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_adherence_and_doses()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    uid uuid := tests.um_user('ann@example.com');
    m jsonb;
BEGIN
    -- this week (t-6 .. t): yes, yes, partial, no; not_applicable and not tracked are not counted; t-1 has none
    PERFORM tests.um_checkin(t, '{"medication_taken": "yes"}');
    PERFORM tests.um_checkin(t - 2, '{"medication_taken": "yes"}');
    PERFORM tests.um_checkin(t - 3, '{"medication_taken": "partial", "missed_doses": 1}');
    PERFORM tests.um_checkin(t - 4, '{"medication_taken": "no", "missed_doses": 2}');
    PERFORM tests.um_checkin(t - 5, '{"medication_taken": "not_applicable"}');
    PERFORM tests.um_checkin(t - 6, '{"medication_taken": "not tracked", "missed_doses": 0}');
    -- the week before (t-13 .. t-7): yes, yes, yes, no = 75 %
    PERFORM tests.um_checkin(t - d, '{"medication_taken": "yes"}') FROM generate_series(7, 9) AS d;
    PERFORM tests.um_checkin(t - 13, '{"medication_taken": "no", "missed_doses": 5}');
    -- long ago, and after the day: in the total only
    PERFORM tests.um_checkin(t - 40, '{"medication_taken": "yes"}');
    PERFORM tests.um_checkin(t + 1, '{"medication_taken": "no"}');

    m := core.user_metrics(uid, t);
    PERFORM tests.assert_eq(m ->> 'medicationAdherenceRate', '62.5', '(2 + 0.5) / 4');
    PERFORM tests.assert_eq(m ->> 'medicationAdherenceTrend', 'declining', '62.5 against 75');
    PERFORM tests.assert_eq(m ->> 'missedDosesLastWeek', '3', 'sum of missed_doses this week');
    PERFORM tests.assert_eq(m ->> 'totalMedicationCheckIns', '10', 'yes/no/partial answers of all time');
    PERFORM tests.assert_eq(m ->> 'totalCheckIns', '12');
    PERFORM tests.assert_true(m -> 'riskFactors' ? 'Medication adherence below target', 'risk');
    PERFORM tests.assert_true(m -> 'riskFactors' ? '3 missed doses this week', 'templated risk');

    -- a later week within 5 points is stable; more than 5 points up is improving
    m := core.user_metrics(uid, t + 7);
    PERFORM tests.assert_eq(array[m ->> 'medicationAdherenceRate', m ->> 'medicationAdherenceTrend'],
        array['0.0', 'declining'], 'the week t+1 .. t+7 has one answer, no');
    m := core.user_metrics(uid, t + 14);
    PERFORM tests.assert_eq(array[m ->> 'medicationAdherenceRate', m ->> 'medicationAdherenceTrend',
        m ->> 'missedDosesLastWeek'], array['0', 'stable', '0'], 'no tracked answer this week: 0, stable');
    PERFORM tests.assert_eq(array[core.metric_facts(uid, t + 14) ->> 'adherence_rate',
        core.metric_facts(uid, t + 14) ->> 'adherence_trend'], array[NULL, NULL], 'the facts the rules read: none');
    PERFORM tests.um_user('bob@example.com');
    PERFORM tests.um_checkin(t - d, '{"medication_taken": "yes"}') FROM generate_series(0, 2) AS d;
    PERFORM tests.um_checkin(t - 3, '{"medication_taken": "partial"}');
    PERFORM tests.um_checkin(t - d, '{"medication_taken": "yes"}') FROM generate_series(7, 9) AS d;
    PERFORM tests.um_checkin(t - 10, '{"medication_taken": "partial"}');
    m := core.user_metrics(core.current_user_id(), t);
    PERFORM tests.assert_eq(array[m ->> 'medicationAdherenceRate', m ->> 'medicationAdherenceTrend'],
        array['87.5', 'stable']);
    PERFORM tests.um_checkin(t - 11, '{"medication_taken": "no"}');
    m := core.user_metrics(core.current_user_id(), t);
    PERFORM tests.assert_eq(m ->> 'medicationAdherenceTrend', 'improving', '87.5 against 70');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_mood_anxiety_phq4()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    uid uuid := tests.um_user('ann@example.com');
    corrected uuid;
    m jsonb;
BEGIN
    PERFORM tests.um_checkin(t, '{"mood_today": "great", "anxiety_level": 8}');
    PERFORM tests.um_checkin(t - 1, '{"mood_today": "blorp", "anxiety_level": null}');
    corrected := tests.um_checkin(t - 2, '{"mood_today": "hopeful, anxious", "anxiety_level": 6, "phq4_score": 3}');
    PERFORM tests.um_checkin(t - 6, '{"mood_today": "Hopeful", "anxiety_level": 4}');
    PERFORM tests.um_checkin(t - 7, '{"mood_today": "devastated", "anxiety_level": 10}');
    PERFORM tests.um_checkin(t - 10, '{"phq4_feeling_nervous": 2, "phq4_stop_worrying": 1, "phq4_little_interest": 1,
        "phq4_feeling_down": 1}');
    PERFORM tests.um_checkin(t - 20, '{"phq4_score": 8}');
    PERFORM tests.um_checkin(t + 1, '{"phq4_score": 12}');

    m := core.user_metrics(uid, t);
    PERFORM tests.assert_eq(m ->> 'averageMoodScore', '7.0', '(9 + 5 + 7) / 3: unknown words excluded, multi-mood mean');
    PERFORM tests.assert_eq(m ->> 'anxietyAverage', '6.0', '(8 + 6 + 4) / 3');
    PERFORM tests.assert_eq(m ->> 'currentPHQ4Score', '3', 'the latest check-in that answered PHQ-4 (t-2)');
    PERFORM tests.assert_eq(m ->> 'phq4Trend', 'improving', '3 after 5');
    PERFORM api.update_checkin(jsonb_build_object('id', corrected, 'phq4_score', 9));
    m := core.user_metrics(uid, t);
    PERFORM tests.assert_eq(array[m ->> 'currentPHQ4Score', m ->> 'phq4Trend'], array['9', 'worsening'],
        'the corrected value');
    PERFORM api.update_checkin(jsonb_build_object('id', corrected, 'phq4_feeling_nervous', 3, 'phq4_feeling_down', 2));
    m := core.user_metrics(uid, t);
    PERFORM tests.assert_eq(array[m ->> 'currentPHQ4Score', m ->> 'phq4Trend'], array['5', 'stable'],
        'items win over the total');
    PERFORM api.delete_checkin(jsonb_build_object('id', corrected));
    m := core.user_metrics(uid, t);
    PERFORM tests.assert_eq(array[m ->> 'currentPHQ4Score', m ->> 'phq4Trend'], array['5', 'improving'],
        'deleted: t-10 (5) after t-20 (8)');
    PERFORM tests.assert_eq(core.user_metrics(uid, t - 11) ->> 'phq4Trend', NULL, 'a single PHQ-4: no trend');
    PERFORM tests.assert_eq(core.user_metrics(uid, t - 11) ->> 'currentPHQ4Score', '8');
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 1) ->> 'currentPHQ4Score', '12');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_streak_and_totals()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    uid uuid := tests.um_user('ann@example.com');
BEGIN
    PERFORM tests.um_checkin(t - d, '{}') FROM generate_series(0, 2) AS d;
    PERFORM tests.um_checkin(t - d, '{}') FROM generate_series(4, 5) AS d;
    PERFORM tests.um_checkin(t + 1, '{}');
    PERFORM tests.assert_eq(core.checkin_streak(uid, t), 3, 'today and the two days before; the gap ends it');
    PERFORM tests.assert_eq(core.checkin_streak(uid, t + 2), 4, 'ending yesterday (t+1): t+1, t, t-1, t-2');
    PERFORM tests.assert_eq(core.checkin_streak(uid, t - 3), 2, 'no check-in today (t-3): from yesterday');
    PERFORM tests.assert_eq(core.checkin_streak(uid, t + 3), 0, 'latest check-in two days ago');
    PERFORM tests.assert_eq(core.checkin_streak(uid, t - 6), 0, 'before any check-in');
    PERFORM tests.assert_eq(core.user_metrics(uid, t) -> 'checkInStreak', '3'::jsonb, 'the future check-in ignored');
    PERFORM tests.assert_eq(core.user_metrics(uid, t) -> 'totalCheckIns', '6'::jsonb, 'but counted in the total');

    -- local calendar days across the DST changes (America/Los_Angeles: 2025-03-09 and 2025-11-02)
    PERFORM tests.um_user('bob@example.com');
    PERFORM tests.um_checkin(DATE '2025-03-07' + d, '{}') FROM generate_series(0, 3) AS d;
    PERFORM tests.assert_eq(core.checkin_streak(core.current_user_id(), DATE '2025-03-10'), 4, 'spring forward');
    PERFORM tests.assert_eq(core.checkin_streak(core.current_user_id(), DATE '2025-03-11'), 4, 'from yesterday');
    PERFORM tests.um_checkin(DATE '2025-10-31' + d, '{}') FROM generate_series(0, 2) AS d;
    PERFORM tests.assert_eq(core.checkin_streak(core.current_user_id(), DATE '2025-11-02'), 3, 'fall back');
    -- a deleted check-in breaks the streak
    PERFORM api.delete_checkin(jsonb_build_object('id', (SELECT c.id FROM public.daily_checkins AS c
        WHERE c.user_id = core.current_user_id() AND c.date_submitted = DATE '2025-11-01')));
    PERFORM tests.assert_eq(core.checkin_streak(core.current_user_id(), DATE '2025-11-02'), 1);
    -- the route uses the caller's local today
    PERFORM tests.make_user('cy@example.com', 'Pacific/Kiritimati');
    PERFORM tests.um_checkin((now() AT TIME ZONE 'Pacific/Kiritimati')::date - d, '{}') FROM generate_series(1, 2) AS d;
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,checkInStreak}', '2', 'ending yesterday, local');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_coping_partner_engagement()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    uid uuid := tests.um_user('ann@example.com');
    m jsonb;
    ids uuid[];
BEGIN
    PERFORM tests.um_checkin(t, jsonb_build_object('mood_today', 'great', 'partner_involved_today', TRUE,
        'coping_strategies_used', jsonb_build_array('Walk', E'Deep\n  breathing ')));
    PERFORM tests.um_checkin(t - 1, '{"mood_today": "sad", "partner_involved_today": false,
        "coping_strategies_used": ["walk "]}');
    PERFORM tests.um_checkin(t - 2, '{"mood_today": "good", "coping_strategies_used": ["Yoga", "yoga", " "]}');
    PERFORM tests.um_checkin(t - 3, '{"mood_today": "blorp", "coping_strategies_used": ["Journaling"]}');
    PERFORM tests.um_checkin(t - 5, '{"partner_involved_today": true, "coping_strategies_used": []}');
    PERFORM tests.um_checkin(t - 40, '{"mood_today": "amazing", "partner_involved_today": false,
        "coping_strategies_used": ["Meditation"]}');

    m := core.user_metrics(uid, t);
    PERFORM tests.assert_json_eq(m -> 'copingStrategiesUsed', '["Walk", "Deep breathing", "Yoga", "Journaling"]',
        'most frequent first (walk: 2 days), then most recent; whitespace and case folded; 30 days only');
    PERFORM tests.assert_eq(m ->> 'mostEffectiveStrategy', 'Deep breathing',
        'highest mean mood of the days used: deep breathing 9, yoga 7, walk 5.5, journaling unscored');
    PERFORM tests.assert_eq(m ->> 'partnerInvolvementRate', '67', '2 of the 3 answered days (30 days only)');
    PERFORM tests.assert_true(m -> 'protectiveFactors' ? 'Partner involved in your journey');
    PERFORM tests.assert_true(m -> 'protectiveFactors' ? 'Actively using coping strategies');

    -- engagement: insights of the 30 days with an action other than dismissed
    INSERT INTO public.insights (user_id, insight_type, title, message, local_date, category)
    SELECT uid, 'encouragement', 't', 'm', t - n, CASE WHEN n = 0 THEN 'daily' ELSE 'micro' END
    FROM unnest(ARRAY[0, 3, 10, 29, 30]) AS n;
    SELECT array_agg(i.id ORDER BY i.local_date DESC) INTO ids FROM public.insights AS i;
    INSERT INTO public.insight_engagement (user_id, insight_id, insight_type, action, local_date) VALUES
    (uid, ids[1], 'daily', 'viewed', t), (uid, ids[1], 'daily', 'liked', t),
    (uid, ids[2], 'daily', 'clicked', t),
    (uid, ids[3], 'daily', 'dismissed', t),
    (uid, ids[5], 'daily', 'viewed', t),
    (uid, NULL, 'micro', 'viewed', t);
    PERFORM tests.assert_eq(core.user_metrics(uid, t) ->> 'insightInteractionRate', '50', '2 of the 4 insights');
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 30) ->> 'insightInteractionRate', NULL, 'none delivered');
    -- without an answer the partner rate is 0 for the app, and no protective factor
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 60) ->> 'partnerInvolvementRate', '0');
    PERFORM tests.assert_eq(core.metric_facts(uid, t + 60) ->> 'partner_rate', NULL);
END
$$;

-- insightEngagementRate is the web app's "Daily Check-in Rate" (benchmark 70 %, the "Engagement Score" bar):
-- min(100, round(check-ins / max(1, whole days since sign-up) x 100)), an integer, 0 without check-ins.
CREATE OR REPLACE FUNCTION tests.test_metrics_daily_checkin_rate()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    uid uuid := tests.um_user('ann@example.com');
BEGIN
    UPDATE public.users SET created_at = TIMESTAMPTZ '2025-06-05 18:00Z' WHERE id = uid;  -- 11:00 in LA
    PERFORM tests.assert_eq(core.user_metrics(uid, t) -> 'insightEngagementRate', '0'::jsonb, 'no check-in');
    PERFORM tests.um_checkin(t - d, '{}') FROM generate_series(0, 6) AS d;
    PERFORM tests.assert_eq(core.metric_facts(uid, t) ->> 'days_since_signup', '10');
    PERFORM tests.assert_eq(core.user_metrics(uid, t) -> 'insightEngagementRate', '70'::jsonb, '7 in 10 days');
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 6) -> 'insightEngagementRate', '44'::jsonb,
        '7 / 16 = 43.75, rounded');
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 10) -> 'insightEngagementRate', '35'::jsonb, '7 / 20');
    PERFORM tests.um_checkin(t + 1, '{}');
    PERFORM tests.assert_eq(core.user_metrics(uid, t + 6) -> 'insightEngagementRate', '50'::jsonb, '8 / 16');
    -- the sign-up day itself counts as one day; never over 100
    PERFORM tests.assert_eq(core.user_metrics(uid, DATE '2025-06-05') -> 'insightEngagementRate', '100'::jsonb);
    PERFORM tests.assert_eq(core.user_metrics(uid, DATE '2025-06-06') -> 'insightEngagementRate', '100'::jsonb,
        '8 check-ins in 1 day');
    -- the figure the insights engagement used to be reported under is a key of its own
    PERFORM tests.assert_eq(core.user_metrics(uid, t) -> 'insightInteractionRate', 'null'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_metrics_factors_and_probability()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    t date := DATE '2025-06-15';
    m jsonb;
BEGIN
    -- a strong fortnight
    PERFORM tests.um_user('ann@example.com');
    PERFORM tests.um_checkin(t - d, '{"mood_today": "great", "medication_taken": "yes", "phq4_score": 1,
        "partner_involved_today": true, "coping_strategies_used": ["walk"]}') FROM generate_series(0, 7) AS d;
    m := core.user_metrics(core.current_user_id(), t);
    PERFORM tests.assert_json_eq(m -> 'protectiveFactors', '["8-day check-in streak", "Excellent medication adherence",
        "Strong mental well-being", "Consistent daily check-ins", "Partner involved in your journey",
        "Positive mood this week", "Actively using coping strategies"]', 'highest priority first');
    PERFORM tests.assert_json_eq(m -> 'riskFactors', '["Low engagement with tracking"]', '8 of 30 days = 27 %');
    PERFORM tests.assert_eq(m ->> 'cycleCompletionProbability', '80',
        '50 + 15 (adherence 100) + 15 (PHQ-4 1) + 0 (check-in rate 27 %)');

    -- a hard week after a lapse
    PERFORM tests.um_user('bob@example.com');
    PERFORM tests.um_checkin(t - 100 - d, '{}') FROM generate_series(0, 3) AS d;
    PERFORM tests.um_checkin(t - 2, '{"mood_today": "sad", "anxiety_level": 8, "medication_taken": "no",
        "missed_doses": 1, "phq4_score": 7}');
    PERFORM tests.um_checkin(t - 3, '{"mood_today": "sad", "anxiety_level": 8, "medication_taken": "no",
        "missed_doses": 1}');
    PERFORM tests.um_checkin(t - 4, '{"mood_today": "okay", "anxiety_level": 8, "medication_taken": "yes",
        "missed_doses": 1}');
    m := core.user_metrics(core.current_user_id(), t);
    PERFORM tests.assert_json_eq(m -> 'riskFactors', '["Elevated stress/anxiety levels",
        "Medication adherence below target", "High anxiety levels this week", "Low mood this week",
        "3 missed doses this week", "Low engagement with tracking", "Check-in streak broken"]');
    PERFORM tests.assert_json_eq(m -> 'protectiveFactors', '[]');
    PERFORM tests.assert_eq(m ->> 'cycleCompletionProbability', '55', '50 + 5 (PHQ-4 6-8)');
    PERFORM tests.assert_eq(m ->> 'averageMoodScore', '3.0');

    -- a new user: the great start, and no engagement risk before three check-ins
    PERFORM tests.make_user('cy@example.com');
    PERFORM tests.um_checkin(core.local_date(core.current_user_id()), '{}');
    m := api.user_metrics() -> 'metrics';
    PERFORM tests.assert_json_eq(m -> 'protectiveFactors', '["Great start on your tracking journey"]');
    PERFORM tests.assert_json_eq(m -> 'riskFactors', '[]');
    PERFORM tests.assert_eq(m ->> 'cycleCompletionProbability', '60', 'checked in on the 1 day since signup');

    -- the probability bands, straight from the rules
    PERFORM tests.assert_eq((SELECT sum(r.score_delta) FROM core.matching_rules('completion',
        '{"adherence_rate": 85, "current_phq4": 4, "checkin_rate_30": 55}') AS r), 75::bigint, '50+10+10+5');
    PERFORM tests.assert_eq((SELECT sum(r.score_delta) FROM core.matching_rules('completion',
        '{"adherence_rate": 70, "current_phq4": 9, "checkin_rate_30": 70}') AS r), 65::bigint, '50+5+0+10');
    PERFORM tests.assert_eq((SELECT sum(r.score_delta) FROM core.matching_rules('completion',
        '{"adherence_rate": 69.9}') AS r), 50::bigint);
END
$$;
