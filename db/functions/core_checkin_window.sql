-- depends: functions/core_jsonb_concat_agg.sql, views/health_events_live.sql
-- The live V1 check-ins of a user in a range of local dates, read from the event log by (user_id, local_date).

CREATE OR REPLACE FUNCTION core.checkin_window(p_user_id uuid, p_from date, p_to date)
RETURNS TABLE (id uuid, date_submitted date, fields jsonb)
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- The same rows as daily_checkins_legacy (a live_checkins row and the merged "fields" of its live
    -- checkin_v1 events, position order) for the range, but found with one range scan of the user's events of
    -- those days instead of one correlation lookup per check-in: about 7x faster over 30 days. A check-in's live
    -- events all carry its date (a move appends corrections of every event with the new date).
    SELECT c.id, c.local_date, g.fields
    FROM (
        SELECT
            e.correlation_id,
            core.jsonb_concat_agg(e.event_data -> 'fields' ORDER BY e.position) AS fields
        FROM public.health_events_live AS e
        WHERE e.user_id = p_user_id AND e.local_date BETWEEN p_from AND p_to AND e.source = 'checkin_v1'
        GROUP BY e.correlation_id
    ) AS g
    INNER JOIN public.live_checkins AS c
        ON c.id = g.correlation_id AND c.user_id = p_user_id AND c.local_date BETWEEN p_from AND p_to
$$;

COMMENT ON FUNCTION core.checkin_window(uuid, date, date) IS
'The user''s live V1 check-ins dated p_from..p_to as (id, date_submitted, fields): the rows of '
'daily_checkins_legacy for that range, read by one index range scan of the user''s events of those days.';
