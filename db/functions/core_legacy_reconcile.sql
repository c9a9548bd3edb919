-- The import of legacy writes (core.sync_legacy_checkins): the V2 state of a set of check-ins made equal to their
-- legacy rows.

-- Bring the V2 state (live_checkins + events) of the user's check-ins p_ids to their legacy rows' current
-- state. A live check-in holding a date one of them takes in the legacy table is stale too and joins the set
-- (so moves, swaps and delete-then-reuse of a date never collide). Returns how many check-ins changed.
CREATE OR REPLACE FUNCTION core.legacy_reconcile(p_user_id uuid, p_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    work uuid[] := coalesce(p_ids, '{}');
    more uuid[];
    targets public.daily_checkins[];
    d public.daily_checkins;
    cur record;
    ev record;
    n integer := 0;
BEGIN
    -- The legacy rows and the live check-ins blocking their dates, read together (one snapshot), until the
    -- set is closed.
    LOOP
        SELECT
            (
                SELECT coalesce(array_agg(t), '{}')
                FROM public.daily_checkins AS t
                WHERE t.user_id = p_user_id AND t.id = ANY (work)
            ),
            (
                SELECT coalesce(array_agg(DISTINCT c.id), '{}')
                FROM public.live_checkins AS c
                INNER JOIN public.daily_checkins AS t ON t.user_id = c.user_id AND t.date_submitted = c.local_date
                WHERE c.user_id = p_user_id AND t.id = ANY (work) AND c.id <> ALL (work)
            )
        INTO targets, more;
        EXIT WHEN cardinality(more) = 0;
        work := work || more;
    END LOOP;

    -- Live check-ins that are gone from the legacy table are retracted; moved ones leave live_checkins for a
    -- moment (re-inserted below on their new date).
    FOR cur IN
        SELECT c.id, c.local_date, t.id AS target_id, t.date_submitted AS target_date
        FROM public.live_checkins AS c
        LEFT JOIN unnest(targets) AS t ON t.id = c.id
        WHERE c.user_id = p_user_id AND c.id = ANY (work)
        ORDER BY c.id
        FOR UPDATE OF c
    LOOP
        IF cur.target_id IS NULL THEN
            DELETE FROM public.live_checkins AS c WHERE c.id = cur.id;
            FOR ev IN
                SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
                FROM public.health_events_live AS e
                WHERE e.correlation_id = cur.id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
                ORDER BY e.position
            LOOP
                PERFORM core.checkin_append(p_user_id, cur.id, 'retract', ev.event_type, ev.event_subtype,
                    '{}'::jsonb, ev.occurred_at, ev.local_date, ev.id);
            END LOOP;
            n := n + 1;
        ELSIF cur.target_date <> cur.local_date THEN
            DELETE FROM public.live_checkins AS c WHERE c.id = cur.id;
        END IF;
    END LOOP;

    FOREACH d IN ARRAY targets LOOP
        INSERT INTO public.live_checkins AS c (id, user_id, local_date, checkin_type, created_at, updated_at)
        VALUES (d.id, d.user_id, d.date_submitted, d.checkin_type, d.created_at, d.updated_at)
        ON CONFLICT (id) DO UPDATE SET
            local_date = excluded.local_date,
            checkin_type = excluded.checkin_type,
            created_at = excluded.created_at,
            updated_at = excluded.updated_at
        WHERE (c.local_date, c.checkin_type, c.created_at, c.updated_at)
            IS DISTINCT FROM (excluded.local_date, excluded.checkin_type, excluded.created_at, excluded.updated_at);
        IF core.checkin_converge(p_user_id, d.id, core.legacy_fields(d), d.checkin_type, d.date_submitted,
            d.created_at, d.updated_at) THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION core.legacy_reconcile(uuid, uuid[]) IS
'Make the V2 state of the user''s check-ins p_ids (live_checkins, events) equal to their daily_checkins rows: '
'import new ones, correct changed ones, retract deleted ones; live check-ins blocking a date are included. '
'Returns the number of check-ins whose events changed. Callers hold the user''s sync lock.';
