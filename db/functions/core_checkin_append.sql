-- One event of a V1 check-in's group (correlation_id = the check-in's id, source checkin_v1).

CREATE OR REPLACE FUNCTION core.checkin_append(
    p_user_id uuid,
    p_checkin_id uuid,
    p_action text,
    p_event_type text,
    p_event_subtype text,
    p_event_data jsonb,
    p_occurred_at timestamptz,
    p_local_date date,
    p_related_event_id uuid DEFAULT NULL
)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog
AS $$
    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date,
        action, source, source_version, correlation_id, related_event_id
    ) VALUES (
        p_user_id, p_event_type, p_event_subtype, p_event_data, p_occurred_at, p_local_date,
        p_action, 'checkin_v1', 'v1-compat', p_checkin_id, p_related_event_id
    )
$$;

COMMENT ON FUNCTION core.checkin_append(uuid, uuid, text, text, text, jsonb, timestamptz, date, uuid) IS
'Append one event of check-in p_checkin_id (correlation_id; source checkin_v1, source_version v1-compat): '
'p_action record, or correct/retract of p_related_event_id.';
