-- Deleting a V1 check-in (DELETE /api/checkins/{id}): its row goes, a retract event per live event.

CREATE OR REPLACE FUNCTION core.checkin_retract(p_user_id uuid, p_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    -- As in checkin_correct: the row locked (a V1-mode write in flight on it is waited for), that write imported.
    PERFORM 1 FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(p_user_id);

    -- The row goes (not logged: the retraction below is the log's record of it), which frees the date.
    PERFORM core.legacy_delete(p_id, p_user_id, TRUE);
    PERFORM core.checkin_append(ARRAY(
        SELECT core.checkin_event(p_user_id, p_id, 'retract', e.event_type, e.event_subtype, '{}'::jsonb,
            e.occurred_at, e.local_date, e.id)
        FROM public.health_events_live AS e
        WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
        ORDER BY e.position
    ));
END
$$;

COMMENT ON FUNCTION core.checkin_retract(uuid, uuid) IS
'Delete check-in p_id (V1 DELETE): deletes its daily_checkins row (not logged as a V1-mode change), which frees the '
'date, and appends a retract event for each of its live events. A pending V1-mode write to the row is imported '
'first. NV404 when the user has no such check-in.';
