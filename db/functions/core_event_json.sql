-- depends: functions/core_iso.sql
-- The JSON shape of one event, as every V2 route returns it.

CREATE OR REPLACE FUNCTION core.event_json(e public.health_events)
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'id', e.id,
        'user_id', e.user_id,
        'event_type', e.event_type,
        'event_subtype', e.event_subtype,
        'event_data', e.event_data,
        'occurred_at', core.iso(e.occurred_at),
        'local_date', to_char(e.local_date, 'YYYY-MM-DD'),
        'recorded_at', core.iso(e.recorded_at),
        -- The web app's V2 client reads the recording instant as created_at.
        'created_at', core.iso(e.recorded_at),
        'source', e.source,
        'correlation_id', e.correlation_id,
        'related_event_id', e.related_event_id,
        'action', e.action
    )
$$;

COMMENT ON FUNCTION core.event_json(public.health_events) IS
'One health event as the API''s JSON: {id, user_id, event_type, event_subtype, event_data, occurred_at, '
'local_date, recorded_at, created_at (= recorded_at, the name the web app''s V2 client reads), source, '
'correlation_id, related_event_id, action}.';
