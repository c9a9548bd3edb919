-- One event of a V1 check-in's group, as a row to hand to core.checkin_append (which writes a write's events in one
-- statement).

CREATE OR REPLACE FUNCTION core.checkin_event(
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
RETURNS public.health_events
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT e
    FROM jsonb_populate_record(NULL::public.health_events, jsonb_build_object(
        'user_id', p_user_id, 'correlation_id', p_checkin_id, 'action', p_action, 'event_type', p_event_type,
        'event_subtype', p_event_subtype, 'event_data', p_event_data, 'occurred_at', p_occurred_at,
        'local_date', p_local_date, 'related_event_id', p_related_event_id
    )) AS e
$$;

COMMENT ON FUNCTION core.checkin_event(uuid, uuid, text, text, text, jsonb, timestamptz, date, uuid) IS
'One event of check-in p_checkin_id to append with core.checkin_append: p_action record, or correct/retract of '
'p_related_event_id (the other columns of the row are not written).';
