-- depends: views/health_events_live.sql, functions/core_mood_score.sql
-- Per user and local day, computed from the live events every time it is read (never stale).
CREATE OR REPLACE VIEW public.user_daily_metrics_live
WITH (security_invoker = TRUE) AS
SELECT  -- noqa: ST06
    d.user_id,
    d.date,
    d.latest_mood,
    core.mood_score(d.latest_mood) AS mood_score,
    d.avg_confidence,
    d.avg_anxiety,
    d.checkin_completed,
    d.mood_entries,
    d.medication_entries,
    d.medications_taken,
    d.medications_missed,
    d.medications_partial,
    d.symptom_entries,
    d.symptoms_reported,
    d.event_count
FROM (
    SELECT
        e.user_id,
        e.local_date AS date,
        (
            array_agg(e.event_data ->> 'mood' ORDER BY e.occurred_at DESC, e.position DESC)
            FILTER (WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'mood') = 'string')
        )[1] AS latest_mood,
        round(avg((e.event_data ->> 'confidence')::numeric) FILTER (
            WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'confidence') = 'number'
        ), 2) AS avg_confidence,
        round(avg((e.event_data ->> 'anxiety')::numeric) FILTER (
            WHERE e.event_type = 'mood' AND jsonb_typeof(e.event_data -> 'anxiety') = 'number'
        ), 2) AS avg_anxiety,
        count(*) FILTER (WHERE e.event_type = 'mood' AND e.event_subtype = 'daily_checkin') > 0 AS checkin_completed,
        count(*) FILTER (WHERE e.event_type = 'mood') AS mood_entries,
        count(*) FILTER (WHERE e.event_type = 'medication') AS medication_entries,
        count(*) FILTER (
            WHERE e.event_type = 'medication' AND e.event_data ->> 'status' = 'taken'
        ) AS medications_taken,
        count(*) FILTER (
            WHERE e.event_type = 'medication' AND e.event_data ->> 'status' IN ('missed', 'skipped')
        ) AS medications_missed,
        count(*) FILTER (
            WHERE e.event_type = 'medication' AND e.event_data ->> 'status' = 'partial'
        ) AS medications_partial,
        count(*) FILTER (WHERE e.event_type = 'symptom') AS symptom_entries,
        coalesce(sum(jsonb_array_length(e.event_data -> 'symptoms')) FILTER (
            WHERE e.event_type = 'symptom' AND jsonb_typeof(e.event_data -> 'symptoms') = 'array'
        ), 0) AS symptoms_reported,
        count(*) AS event_count
    FROM public.health_events_live AS e
    GROUP BY e.user_id, e.local_date
) AS d;

COMMENT ON VIEW public.user_daily_metrics_live IS
'Per user and local date, from the live events: latest mood and its score, mean confidence and anxiety of '
'mood events, check-in done, mood/medication/symptom counts, medications taken, missed (missed or skipped) '
'and partial, symptoms listed, event count. Always current; security_invoker (health_events RLS applies).';

GRANT SELECT ON public.user_daily_metrics_live TO novara_api, novara_definer, novara_analyst;
-- security_invoker: whoever reads the view calls core.mood_score (a pure lookup in mood_scores).
GRANT EXECUTE ON FUNCTION core.mood_score(text) TO novara_api, novara_definer, novara_analyst;
