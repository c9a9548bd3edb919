-- The import of legacy writes (core.sync_legacy_checkins): the events of a set of check-ins brought to their rows in
-- daily_checkins.

-- Bring the events of the user's check-ins p_ids to their daily_checkins rows' current state: a row is converged
-- onto (core.checkin_converge: record, correct or retract per event type), a check-in whose row is gone has its
-- live events retracted. Each check-in is independent of the others (the log has no constraint across check-ins;
-- "one check-in per date" is the read model's), so moves, swaps and delete-then-reuse of a date apply in any order.
-- Returns how many check-ins changed.
CREATE OR REPLACE FUNCTION core.legacy_reconcile(p_user_id uuid, p_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    c_id uuid;
    d public.daily_checkins;
    gone public.health_events[];
    n integer := 0;
BEGIN
    FOREACH c_id IN ARRAY ARRAY(SELECT DISTINCT x FROM unnest(coalesce(p_ids, '{}')) AS x ORDER BY x) LOOP
        SELECT t.* INTO d FROM public.daily_checkins AS t WHERE t.id = c_id AND t.user_id = p_user_id;
        IF FOUND THEN
            IF core.checkin_converge(p_user_id, d.id, core.legacy_fields(d), d.checkin_type, d.date_submitted,
                d.created_at, d.updated_at) THEN
                n := n + 1;
            END IF;
            CONTINUE;
        END IF;
        gone := ARRAY(
            SELECT core.checkin_event(p_user_id, c_id, 'retract', e.event_type, e.event_subtype, '{}'::jsonb,
                e.occurred_at, e.local_date, e.id)
            FROM public.health_events_live AS e
            WHERE e.correlation_id = c_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            ORDER BY e.position
        );
        IF cardinality(gone) > 0 THEN
            PERFORM core.checkin_append(gone);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION core.legacy_reconcile(uuid, uuid[]) IS
'Make the events of the user''s check-ins p_ids equal to their daily_checkins rows: record a new one, correct a '
'changed one (core.checkin_converge), retract the live events of one whose row is gone. Returns the number of '
'check-ins whose events changed. Callers hold the user''s sync lock.';
