-- GET /api/users/metrics: every figure computed from the caller's data (docs/metrics.md).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.user_metrics(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    RETURN jsonb_build_object('success', TRUE, 'metrics', core.user_metrics(uid, core.user_today(uid)));
END
$$;

ALTER FUNCTION api.user_metrics(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.user_metrics(jsonb) IS
'GET /api/users/metrics. {success, metrics: {medicationAdherenceRate, medicationAdherenceTrend, missedDosesLastWeek, '
'totalMedicationCheckIns, averageMoodScore, currentPHQ4Score, phq4Trend, anxietyAverage, checkInStreak, '
'totalCheckIns, insightEngagementRate (the daily check-in rate), insightInteractionRate, copingStrategiesUsed, '
'mostEffectiveStrategy, partnerInvolvementRate, cycleCompletionProbability, riskFactors, protectiveFactors}} for the '
'caller''s today (core.user_today; core.user_metrics; definitions in docs/metrics.md). NV401/NV404.';
