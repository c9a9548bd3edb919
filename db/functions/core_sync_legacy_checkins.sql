-- Importing writes to daily_checkins made outside the V2 path into the event log (docs/v1-v2-sync.md). The table is
-- the check-ins' read model in both modes; what V1 mode (or psql) writes to it is logged in
-- public.legacy_checkin_changes. core.sync_legacy_checkins applies those entries: for each check-in they name, the
-- events are brought to the row's CURRENT state (record, correct or retract events), so applying an entry twice, or
-- an old entry after a newer one, changes nothing. Consumed entries are deleted in the same transaction. The V2
-- check-in writes and the routes that read the event log call it first for the caller ([v1-import],
-- db/README.md); `novara serve` drains every user's entries when it starts in V2 mode (the flag flipped on).

CREATE OR REPLACE FUNCTION core.sync_legacy_checkins(p_user_id uuid DEFAULT NULL, p_batch integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    prior_claims text;
    batch integer := greatest(coalesce(p_batch, 1000), 1);
    total integer := 0;
    n integer;
    uid uuid;
    uids uuid[];
BEGIN
    IF p_user_id IS NOT NULL THEN
        -- The common case, on every V2 request: nothing pending, one probe of legacy_checkin_changes_user.
        IF NOT EXISTS (SELECT 1 FROM public.legacy_checkin_changes AS l WHERE l.user_id = p_user_id) THEN
            RETURN 0;
        END IF;
        IF current_setting('transaction_read_only') = 'on' THEN
            RETURN 0;  -- a READ ONLY transaction cannot import: the caller reads what the log has
        END IF;
        -- Drain the user's queue (batch by batch) so the caller sees every legacy write committed before it.
        PERFORM core.legacy_sync_lock(p_user_id);
        LOOP
            n := core.legacy_sync_user(p_user_id, batch);
            total := total + n;
            EXIT WHEN n < batch;
        END LOOP;
        RETURN total;
    END IF;

    -- Every user (DBAs, the migration): at most about p_batch entries, user by user, oldest pending first.
    -- Row-level security is forced, so each user is named in the claims while their rows are written.
    prior_claims := coalesce(current_setting('request.jwt.claims', TRUE), '');
    SELECT coalesce(array_agg(x.user_id ORDER BY x.first), '{}') INTO uids
    FROM (
        SELECT l.user_id, min(l.position) AS first
        FROM public.legacy_checkin_changes AS l
        GROUP BY l.user_id
    ) AS x;
    FOREACH uid IN ARRAY uids LOOP
        PERFORM set_config('request.jwt.claims', jsonb_build_object('id', uid)::text, TRUE);
        PERFORM core.legacy_sync_lock(uid);
        LOOP
            n := core.legacy_sync_user(uid, batch - total);
            total := total + n;
            EXIT WHEN n = 0 OR total >= batch;
        END LOOP;
        EXIT WHEN total >= batch;
    END LOOP;
    PERFORM set_config('request.jwt.claims', prior_claims, TRUE);
    RETURN total;
END
$$;

COMMENT ON FUNCTION core.sync_legacy_checkins(uuid, integer) IS
'Import pending legacy_checkin_changes into the event log, idempotently: each named check-in''s events brought to '
'its daily_checkins row (insert -> record events with the row''s id, update -> corrections, delete -> '
'retractions). p_user_id: drain that user''s queue (one index probe when empty; skipped in READ ONLY transactions); '
'NULL: all users, about p_batch entries per call. Returns the number of entries applied.';
