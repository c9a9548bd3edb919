-- depends: functions/core_jsonb_concat_agg.sql, views/health_events_live.sql
-- The V1 check-ins rebuilt from the event log alone: one row per check-in with live events (a group of checkin_v1
-- events sharing correlation_id = the check-in's id). fields = the "fields" of its live events merged in position
-- order; date and type are those of its live mood event (every live check-in has one, and all its live events
-- carry its date: a move corrects every event onto the new date).
--
-- Nothing on the request path reads it: the check-ins are read from their read model, public.daily_checkins, which
-- the write functions keep in the same transaction as the events (docs/design-v2.md, "One read model of the
-- check-ins"). This view is what that table must equal (db/tests/test_sync.sql, tests/sql/test_projection.py:
-- random histories of both modes), and how to rebuild it. The instants created_at and updated_at are the read
-- model's alone: an imported V1 row keeps the ones it was written with, which the log does not hold.
--
-- Its typed columns (mood_today .. phq4_depression) are THE definition of the V1 check-in's columns: each is
-- named, typed and read from the fields here, once. The table public.daily_checkins (migration 0006) has the same
-- columns, and its one writer, core.legacy_put, takes their names and types from this view's row type
-- (jsonb_populate_record), so a column added here is written there without another list to update.

CREATE OR REPLACE VIEW public.daily_checkins_legacy
WITH (security_invoker = TRUE) AS
SELECT
    c.id,
    c.user_id,
    c.date_submitted,
    c.checkin_type,
    c.fields,
    c.fields ->> 'mood_today' AS mood_today,
    CASE
        WHEN jsonb_typeof(c.fields -> 'confidence_today') = 'number'
            THEN (c.fields ->> 'confidence_today')::numeric::integer
    END AS confidence_today,
    coalesce(c.fields ->> 'medication_taken', 'not tracked') AS medication_taken,
    c.fields ->> 'user_note' AS user_note,
    c.fields ->> 'primary_concern_today' AS primary_concern_today,
    CASE
        WHEN jsonb_typeof(c.fields -> 'anxiety_level') = 'number'
            THEN (c.fields ->> 'anxiety_level')::numeric::integer
    END AS anxiety_level,
    nullif(c.fields -> 'side_effects', 'null'::jsonb) AS side_effects,
    CASE
        WHEN jsonb_typeof(c.fields -> 'missed_doses') = 'number'
            THEN (c.fields ->> 'missed_doses')::numeric::integer
    END AS missed_doses,
    CASE
        WHEN jsonb_typeof(c.fields -> 'injection_confidence') = 'number'
            THEN (c.fields ->> 'injection_confidence')::numeric::integer
    END AS injection_confidence,
    CASE
        WHEN jsonb_typeof(c.fields -> 'appointment_within_3_days') = 'boolean'
            THEN (c.fields ->> 'appointment_within_3_days')::boolean
    END AS appointment_within_3_days,
    CASE
        WHEN jsonb_typeof(c.fields -> 'appointment_anxiety') = 'number'
            THEN (c.fields ->> 'appointment_anxiety')::numeric::integer
    END AS appointment_anxiety,
    nullif(c.fields -> 'coping_strategies_used', 'null'::jsonb) AS coping_strategies_used,
    CASE
        WHEN jsonb_typeof(c.fields -> 'partner_involved_today') = 'boolean'
            THEN (c.fields ->> 'partner_involved_today')::boolean
    END AS partner_involved_today,
    nullif(c.fields -> 'wish_knew_more_about', 'null'::jsonb) AS wish_knew_more_about,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_feeling_nervous') = 'number'
            THEN (c.fields ->> 'phq4_feeling_nervous')::numeric::integer
    END AS phq4_feeling_nervous,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_stop_worrying') = 'number'
            THEN (c.fields ->> 'phq4_stop_worrying')::numeric::integer
    END AS phq4_stop_worrying,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_little_interest') = 'number'
            THEN (c.fields ->> 'phq4_little_interest')::numeric::integer
    END AS phq4_little_interest,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_feeling_down') = 'number'
            THEN (c.fields ->> 'phq4_feeling_down')::numeric::integer
    END AS phq4_feeling_down,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_score') = 'number'
            THEN (c.fields ->> 'phq4_score')::numeric::integer
    END AS phq4_score,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_anxiety') = 'number'
            THEN (c.fields ->> 'phq4_anxiety')::numeric::integer
    END AS phq4_anxiety,
    CASE
        WHEN jsonb_typeof(c.fields -> 'phq4_depression') = 'number'
            THEN (c.fields ->> 'phq4_depression')::numeric::integer
    END AS phq4_depression
FROM (
    SELECT
        e.correlation_id AS id,
        e.user_id,
        (array_agg(e.local_date ORDER BY e.position DESC) FILTER (WHERE e.event_type = 'mood'))[1] AS date_submitted,
        (
            array_agg(e.event_data ->> 'checkin_type' ORDER BY e.position DESC) FILTER (WHERE e.event_type = 'mood')
        )[1] AS checkin_type,
        core.jsonb_concat_agg(e.event_data -> 'fields' ORDER BY e.position) AS fields
    FROM public.health_events_live AS e
    WHERE e.source = 'checkin_v1' AND e.correlation_id IS NOT NULL
    GROUP BY e.user_id, e.correlation_id
) AS c;

COMMENT ON VIEW public.daily_checkins_legacy IS
'V1 check-ins rebuilt from the event log alone: one row per check-in with live checkin_v1 events (id = their '
'correlation_id), date and type of its live mood event, fields = the V1 answers verbatim (merged "fields" of its '
'live events), plus a typed column per check-in field. What the read model daily_checkins must equal (its instants '
'aside); not read by any route. security_invoker: row-level security of health_events applies.';

GRANT SELECT ON public.daily_checkins_legacy TO novara_api, novara_definer, novara_analyst;
-- security_invoker: whoever reads the view runs core.jsonb_concat_agg (a pure merge of JSON objects).
GRANT EXECUTE ON FUNCTION core.jsonb_concat_agg(jsonb) TO novara_api, novara_analyst;
