-- One user's share of the import of legacy writes (core.sync_legacy_checkins): its lock, and one batch.

CREATE OR REPLACE FUNCTION core.legacy_sync_lock(p_user_id uuid)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog
AS $$
    SELECT pg_advisory_xact_lock(hashtext('novara.sync_legacy_checkins'), hashtext(p_user_id::text))
$$;

COMMENT ON FUNCTION core.legacy_sync_lock(uuid) IS
'Take the transaction-level advisory lock that serialises imports of one user''s legacy writes.';

-- One batch of the user's pending entries (oldest first). The entries are read in one statement and deleted
-- by position after their check-ins are reconciled, so an entry committed meanwhile stays pending.
CREATE OR REPLACE FUNCTION core.legacy_sync_user(p_user_id uuid, p_batch integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    positions bigint[];
    ids uuid[];
BEGIN
    SELECT coalesce(array_agg(x.position), '{}'), coalesce(array_agg(DISTINCT x.checkin_id), '{}')
    INTO positions, ids
    FROM (
        SELECT l.position, l.checkin_id
        FROM public.legacy_checkin_changes AS l
        WHERE l.user_id = p_user_id
        ORDER BY l.position
        LIMIT greatest(p_batch, 1)
    ) AS x;
    IF cardinality(positions) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM core.legacy_reconcile(p_user_id, ids);
    DELETE FROM public.legacy_checkin_changes AS l WHERE l.user_id = p_user_id AND l.position = ANY (positions);
    RETURN cardinality(positions);
END
$$;

COMMENT ON FUNCTION core.legacy_sync_user(uuid, integer) IS
'Apply up to p_batch of the user''s pending legacy_checkin_changes (oldest first) and delete them; returns how '
'many. Callers hold the user''s sync lock.';
