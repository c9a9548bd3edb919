-- The one rule that writes a V1 check-in's state into the event log: its events brought to a state (fields, type,
-- date) by appending what differs, per event type (core.checkin_payloads). Corrections (core.checkin_correct),
-- the import of legacy writes (core.legacy_reconcile) and the backfill (core.backfill_legacy_checkins, through
-- core.legacy_reconcile) all write through it, so a check-in reads the same whichever path wrote it.

CREATE OR REPLACE FUNCTION core.checkin_converge(
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
    events public.health_events[] := '{}';
BEGIN
    -- When new events happen: at the group's time (its live mood event's) when it stays on its date; else
    -- placed on p_date from p_created_at (a check-in without events yet) or p_updated_at (one that moved).
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

    -- Nothing is validated here: a correction validated the state already, and a legacy row is imported as it
    -- is (the row is the truth).
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
            events := events || core.checkin_event(p_user_id, p_id, 'record', p.event_type, p.event_subtype,
                p.event_data, v_at, p_date);
        ELSIF ev.local_date <> p_date OR ev.event_data IS DISTINCT FROM p.event_data THEN
            events := events || core.checkin_event(p_user_id, p_id, 'correct', p.event_type, p.event_subtype,
                p.event_data, CASE WHEN ev.local_date = p_date THEN ev.occurred_at ELSE v_at END, p_date, ev.id);
        END IF;
    END LOOP;

    -- A group the state no longer has (e.g. a legacy row's columns cleared by hand) is retracted. A correction
    -- never drops a group: it keeps every field it does not replace.
    FOR ev IN
        SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type <> ALL (types)
        ORDER BY e.position
    LOOP
        events := events || core.checkin_event(p_user_id, p_id, 'retract', ev.event_type, ev.event_subtype,
            '{}'::jsonb, ev.occurred_at, ev.local_date, ev.id);
    END LOOP;
    -- One statement for all of them (the reads above see none of them: each reads other event types).
    IF cardinality(events) > 0 THEN
        PERFORM core.checkin_append(events);
        changed := TRUE;
    END IF;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION core.checkin_converge(uuid, uuid, jsonb, text, date, timestamptz, timestamptz) IS
'Bring check-in p_id''s live events to a state (fields, type, date): per payload of core.checkin_payloads, record '
'a missing group, correct one whose data or date differs; retract live groups the state has not. New events happen '
'at the group''s time when it stays on p_date, else at core.checkin_occurred_at of p_created_at (no events yet) or '
'p_updated_at (moved). Validates nothing. TRUE when it appended. Used by corrections, the import and the backfill.';
