-- Events of a V1 check-in's group (correlation_id = the check-in's id, source checkin_v1), appended in one INSERT:
-- a write of a check-in is one statement on the log, so the rollups' statement trigger (migration 0050) updates
-- each user-day it touches once.

CREATE OR REPLACE FUNCTION core.checkin_append(p_events public.health_events[])
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog
AS $$
    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date,
        action, source, source_version, correlation_id, related_event_id
    )
    SELECT
        e.user_id, e.event_type, e.event_subtype, e.event_data, e.occurred_at, e.local_date,
        e.action, 'checkin_v1', 'v1-compat', e.correlation_id, e.related_event_id
    FROM unnest(p_events) WITH ORDINALITY AS e
    ORDER BY e.ordinality
$$;

COMMENT ON FUNCTION core.checkin_append(public.health_events[]) IS
'Append check-in events in one statement, in array order: of each element, user_id, correlation_id (the check-in), '
'action (record, or correct/retract of related_event_id), event_type, event_subtype, event_data, occurred_at and '
'local_date are written; source checkin_v1, source_version v1-compat. Build an element with core.checkin_event.';
