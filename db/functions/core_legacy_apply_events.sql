-- The events of one check-in brought to the state of its legacy row.

-- Bring the events of check-in p_id to the given legacy state (fields, type, date). TRUE when it appended.
CREATE OR REPLACE FUNCTION core.legacy_apply_events(
    p_user_id uuid,
    p_id uuid,
    p_fields jsonb,
    p_checkin_type text,
    p_date date,
    p_created_at timestamptz,
    p_updated_at timestamptz
)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    types text[] := '{}';
    v_at timestamptz;
    changed boolean := FALSE;
    p record;
    ev record;
BEGIN
    -- occurred_at of new events: the group's (the mood event's) when it stays on its date, else from the row.
    SELECT CASE WHEN e.local_date = p_date THEN e.occurred_at END INTO v_at
    FROM public.health_events_live AS e
    WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1' AND e.event_type = 'mood'
    ORDER BY e.position DESC
    LIMIT 1;
    IF NOT FOUND THEN
        v_at := core.checkin_occurred_at(p_user_id, p_date, p_created_at);
    ELSIF v_at IS NULL THEN
        v_at := core.checkin_occurred_at(p_user_id, p_date, p_updated_at);
    END IF;

    -- Legacy rows are imported as they are: their answers are not re-validated (the row is the truth).
    FOR p IN SELECT * FROM core.checkin_payloads(p_fields, coalesce(p_checkin_type, 'standard')) LOOP
        types := types || p.event_type;
        SELECT e.id, e.event_data, e.occurred_at, e.local_date INTO ev
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type = p.event_type
        ORDER BY e.position DESC
        LIMIT 1;
        IF NOT FOUND THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'record', p.event_type, p.event_subtype, p.event_data, v_at,
                p_date);
            changed := TRUE;
        ELSIF ev.local_date <> p_date OR ev.event_data IS DISTINCT FROM p.event_data THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'correct', p.event_type, p.event_subtype, p.event_data,
                CASE WHEN ev.local_date = p_date THEN ev.occurred_at ELSE v_at END, p_date, ev.id);
            changed := TRUE;
        END IF;
    END LOOP;

    -- A group the row no longer has (e.g. its columns were cleared by hand) is retracted.
    FOR ev IN
        SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type <> ALL (types)
        ORDER BY e.position
    LOOP
        PERFORM core.checkin_append(p_user_id, p_id, 'retract', ev.event_type, ev.event_subtype, '{}'::jsonb,
            ev.occurred_at, ev.local_date, ev.id);
        changed := TRUE;
    END LOOP;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION core.legacy_apply_events(uuid, uuid, jsonb, text, date, timestamptz, timestamptz) IS
'Make check-in p_id''s live events equal to the payloads of a legacy row (core.checkin_payloads of its fields '
'and type on p_date): record missing groups, correct changed ones, retract dropped ones. TRUE when it appended.';
