-- The rollups recomputed from the event log: what public.user_day_rollups, kept by the writes (migration 0050),
-- must equal. Every user-day of the log through core.user_day_rollup, the definition of one day, read over the
-- index (user_id, local_date). Nothing on the request path reads it: the backfill fills the days that have no row
-- from it, the benchmark's loader writes its rows, and the tests compare it with the table.
CREATE OR REPLACE VIEW public.user_day_rollups_from_log
WITH (security_invoker = TRUE) AS
SELECT
    k.user_id,
    k.date,
    r.event_count,
    r.event_counts,
    r.latest_mood,
    r.mood_score,
    r.latest_mood_at,
    r.latest_mood_position,
    r.confidence_sum,
    r.confidence_n,
    r.anxiety_sum,
    r.anxiety_n,
    r.checkin_moods,
    r.mood_entries,
    r.medication_entries,
    r.medications_taken,
    r.medications_missed,
    r.medications_partial,
    r.latest_medication,
    r.latest_medication_at,
    r.latest_medication_position,
    r.symptom_entries,
    r.symptoms_reported
FROM (
    SELECT DISTINCT
        e.user_id,
        e.local_date AS date
    FROM public.health_events AS e
) AS k
CROSS JOIN LATERAL core.user_day_rollup(k.user_id, k.date) AS r
WHERE r.event_count > 0;

COMMENT ON VIEW public.user_day_rollups_from_log IS
'The rollups recomputed from the event log: one row per user and local day with live events, each computed by '
'core.user_day_rollup. What user_day_rollups (kept by the writes) must equal on its rows with events; its cost '
'grows with the log, so no route reads it. security_invoker: row-level security of health_events applies.';
