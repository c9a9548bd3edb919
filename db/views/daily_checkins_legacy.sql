-- depends: functions/core_jsonb_concat_agg.sql, views/health_events_live.sql
-- The V1 check-ins as rows, computed from the event log: one row per live_checkins row (the lateral
-- aggregate returns exactly one row per check-in, so there is no join fan-out however often it was
-- corrected). fields = the "fields" of the check-in's live events merged in position order.
--
-- Its typed columns (mood_today .. phq4_depression) are THE definition of the V1 check-in's columns: each is
-- named, typed and read from the fields here, once. The legacy table public.daily_checkins (migration 0006) has
-- the same columns, and its one writer, core.legacy_put, takes their names and types from this view's row type
-- (jsonb_populate_record), so a column added here is written there without another list to update.

CREATE OR REPLACE VIEW public.daily_checkins_legacy
WITH (security_invoker = TRUE) AS
SELECT
    c.id,
    c.user_id,
    c.local_date AS date_submitted,
    c.created_at,
    c.updated_at,
    c.checkin_type,
    m.fields,
    m.fields ->> 'mood_today' AS mood_today,
    CASE
        WHEN jsonb_typeof(m.fields -> 'confidence_today') = 'number'
            THEN (m.fields ->> 'confidence_today')::numeric::integer
    END AS confidence_today,
    coalesce(m.fields ->> 'medication_taken', 'not tracked') AS medication_taken,
    m.fields ->> 'user_note' AS user_note,
    m.fields ->> 'primary_concern_today' AS primary_concern_today,
    CASE
        WHEN jsonb_typeof(m.fields -> 'anxiety_level') = 'number'
            THEN (m.fields ->> 'anxiety_level')::numeric::integer
    END AS anxiety_level,
    nullif(m.fields -> 'side_effects', 'null'::jsonb) AS side_effects,
    CASE
        WHEN jsonb_typeof(m.fields -> 'missed_doses') = 'number'
            THEN (m.fields ->> 'missed_doses')::numeric::integer
    END AS missed_doses,
    CASE
        WHEN jsonb_typeof(m.fields -> 'injection_confidence') = 'number'
            THEN (m.fields ->> 'injection_confidence')::numeric::integer
    END AS injection_confidence,
    CASE
        WHEN jsonb_typeof(m.fields -> 'appointment_within_3_days') = 'boolean'
            THEN (m.fields ->> 'appointment_within_3_days')::boolean
    END AS appointment_within_3_days,
    CASE
        WHEN jsonb_typeof(m.fields -> 'appointment_anxiety') = 'number'
            THEN (m.fields ->> 'appointment_anxiety')::numeric::integer
    END AS appointment_anxiety,
    nullif(m.fields -> 'coping_strategies_used', 'null'::jsonb) AS coping_strategies_used,
    CASE
        WHEN jsonb_typeof(m.fields -> 'partner_involved_today') = 'boolean'
            THEN (m.fields ->> 'partner_involved_today')::boolean
    END AS partner_involved_today,
    nullif(m.fields -> 'wish_knew_more_about', 'null'::jsonb) AS wish_knew_more_about,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_feeling_nervous') = 'number'
            THEN (m.fields ->> 'phq4_feeling_nervous')::numeric::integer
    END AS phq4_feeling_nervous,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_stop_worrying') = 'number'
            THEN (m.fields ->> 'phq4_stop_worrying')::numeric::integer
    END AS phq4_stop_worrying,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_little_interest') = 'number'
            THEN (m.fields ->> 'phq4_little_interest')::numeric::integer
    END AS phq4_little_interest,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_feeling_down') = 'number'
            THEN (m.fields ->> 'phq4_feeling_down')::numeric::integer
    END AS phq4_feeling_down,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_score') = 'number'
            THEN (m.fields ->> 'phq4_score')::numeric::integer
    END AS phq4_score,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_anxiety') = 'number'
            THEN (m.fields ->> 'phq4_anxiety')::numeric::integer
    END AS phq4_anxiety,
    CASE
        WHEN jsonb_typeof(m.fields -> 'phq4_depression') = 'number'
            THEN (m.fields ->> 'phq4_depression')::numeric::integer
    END AS phq4_depression
FROM public.live_checkins AS c
CROSS JOIN LATERAL (
    SELECT core.jsonb_concat_agg(e.event_data -> 'fields' ORDER BY e.position) AS fields
    FROM public.health_events_live AS e
    WHERE
        e.correlation_id = c.id
        AND e.user_id = c.user_id
        AND e.source = 'checkin_v1'
) AS m;

COMMENT ON VIEW public.daily_checkins_legacy IS
'V1 check-ins computed from the event log: one row per live check-in (live_checkins), fields = the V1 '
'answers verbatim (merged "fields" of its live checkin_v1 events), plus a typed column per check-in field '
'field for psql users. security_invoker: row-level security of the underlying tables applies.';

GRANT SELECT ON public.daily_checkins_legacy TO novara_api, novara_definer, novara_analyst;
-- security_invoker: whoever reads the view runs core.jsonb_concat_agg (a pure merge of JSON objects).
GRANT EXECUTE ON FUNCTION core.jsonb_concat_agg(jsonb) TO novara_api, novara_analyst;
