-- Per user and local day, the daily metrics: the rollups kept by the writes (migration 0050), presented. Current
-- at every write (the rollups change in the events' own transaction), and a read costs one index range scan of
-- the user's days, whatever the length of the history.
CREATE OR REPLACE VIEW public.user_daily_metrics_live
WITH (security_invoker = TRUE) AS
SELECT  -- noqa: ST06
    r.user_id,
    r.date,
    r.latest_mood,
    r.mood_score,
    round(r.confidence_sum / nullif(r.confidence_n, 0), 2) AS avg_confidence,
    round(r.anxiety_sum / nullif(r.anxiety_n, 0), 2) AS avg_anxiety,
    r.checkin_moods > 0 AS checkin_completed,
    r.mood_entries,
    r.medication_entries,
    r.medications_taken,
    r.medications_missed,
    r.medications_partial,
    r.symptom_entries,
    r.symptoms_reported,
    r.event_count
FROM public.user_day_rollups AS r
WHERE r.event_count > 0;

COMMENT ON VIEW public.user_daily_metrics_live IS
'Per user and local date, from the live events (through the rollups user_day_rollups, kept by every write): latest '
'mood and its score, mean confidence and anxiety of mood events, check-in done, mood/medication/symptom counts, '
'medications taken, missed (missed or skipped) and partial, symptoms listed, event count. Always current; '
'security_invoker (row-level security of user_day_rollups applies).';

GRANT SELECT ON public.user_daily_metrics_live TO novara_api, novara_definer, novara_analyst;
