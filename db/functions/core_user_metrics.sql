-- GET /api/users/metrics, computed: the contract's metrics object, built from the user's facts (core.metric_facts)
-- and from the rules (risk_factor, protective_factor, completion). docs/metrics.md defines every figure.

CREATE OR REPLACE FUNCTION core.user_metrics(p_user_id uuid, p_today date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    f jsonb := core.metric_facts(p_user_id, p_today);
    v_risks jsonb;
    v_protective jsonb;
    v_probability integer;
BEGIN
    SELECT coalesce(jsonb_agg(core.render_template(r.message, f) ORDER BY r.priority DESC, r.rule_key), '[]'::jsonb)
    INTO v_risks
    FROM core.matching_rules('risk_factor', f) AS r;

    SELECT coalesce(jsonb_agg(core.render_template(r.message, f) ORDER BY r.priority DESC, r.rule_key), '[]'::jsonb)
    INTO v_protective
    FROM core.matching_rules('protective_factor', f) AS r;

    SELECT least(95, greatest(5, coalesce(sum(r.score_delta), 50)))::integer
    INTO v_probability
    FROM core.matching_rules('completion', f) AS r;

    -- The keys as the web app uses them (docs/metrics.md): a number wherever it does arithmetic, compares or
    -- draws a bar without a null check (0 when there is no data: it shows "—" for a zero adherence), null only
    -- where it tells "no data" from zero, a trend it can compare with 'stable', arrays never null.
    RETURN jsonb_build_object(
        'medicationAdherenceRate', coalesce(nullif(f -> 'adherence_rate', 'null'), '0'),
        'medicationAdherenceTrend', coalesce(nullif(f -> 'adherence_trend', 'null'), '"stable"'),
        'missedDosesLastWeek', f -> 'missed_doses_week',
        'totalMedicationCheckIns', f -> 'total_medication_checkins',
        'averageMoodScore', f -> 'average_mood',
        'currentPHQ4Score', f -> 'current_phq4',
        'phq4Trend', f -> 'phq4_trend',
        'anxietyAverage', f -> 'anxiety_average',
        'checkInStreak', f -> 'streak',
        'totalCheckIns', f -> 'total_checkins',
        'insightEngagementRate', f -> 'daily_checkin_rate',
        'insightInteractionRate', f -> 'engagement_rate',
        'copingStrategiesUsed', f -> 'coping_strategies',
        'mostEffectiveStrategy', f -> 'most_effective_strategy',
        'partnerInvolvementRate', coalesce(nullif(f -> 'partner_rate', 'null'), '0'),
        'cycleCompletionProbability', v_probability,
        'riskFactors', v_risks,
        'protectiveFactors', v_protective
    );
END
$$;

COMMENT ON FUNCTION core.user_metrics(uuid, date) IS
'The contract''s metrics object for local day p_today: figures from core.metric_facts, typed as the web app '
'reads them (docs/metrics.md: insightEngagementRate is its daily check-in rate, insightInteractionRate the '
'engagement with insights); riskFactors and protectiveFactors = messages of the matching risk_factor / '
'protective_factor rules (highest priority first); cycleCompletionProbability = sum of the matching completion '
'rules'' score_delta, clamped to 5..95.';
