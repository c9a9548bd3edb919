-- Deleting a V1 check-in (DELETE /api/checkins/{id}): a retract event per live event, and its rows.

CREATE OR REPLACE FUNCTION core.checkin_retract(p_user_id uuid, p_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    ev record;
BEGIN
    -- As in checkin_correct: a V1-mode write in flight on the legacy row is waited for and imported first.
    PERFORM 1 FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id FOR UPDATE;
    PERFORM core.sync_legacy_checkins(p_user_id);

    DELETE FROM public.live_checkins AS c WHERE c.id = p_id AND c.user_id = p_user_id;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    FOR ev IN
        SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
        FROM public.health_events_live AS e
        WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
        ORDER BY e.position
    LOOP
        PERFORM core.checkin_append(p_user_id, p_id, 'retract', ev.event_type, ev.event_subtype, '{}'::jsonb,
            ev.occurred_at, ev.local_date, ev.id);
    END LOOP;
    -- Dual write: the legacy row goes too (not logged), so V1 mode no longer lists it.
    PERFORM core.legacy_delete(p_id, p_user_id, TRUE);
END
$$;

COMMENT ON FUNCTION core.checkin_retract(uuid, uuid) IS
'Delete check-in p_id (V1 DELETE): appends a retract event for each of its live events and deletes its '
'live_checkins row and its daily_checkins row (dual write), which frees the date. NV404 when the user has no '
'such live check-in.';
