-- The guard of the read-only variants of the routes that read the event log ([read-only-first] in db/README.md): they
-- cannot import V1-mode writes (a standby, a READ ONLY transaction), so while a user has some pending they say so.

CREATE OR REPLACE FUNCTION core.require_no_pending_v1_writes(p_user_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    -- One probe of legacy_checkin_changes_user: the queue core.sync_legacy_checkins drains.
    IF EXISTS (SELECT 1 FROM public.legacy_checkin_changes AS l WHERE l.user_id = p_user_id) THEN
        RAISE EXCEPTION 'V1-mode writes of this user are not in the event log yet: read on the primary'
            USING ERRCODE = '25006', HINT = 'Call the route''s read-write function (api.<name>), which imports them.';
    END IF;
END
$$;

COMMENT ON FUNCTION core.require_no_pending_v1_writes(uuid) IS
'Raises SQLSTATE 25006 (read_only_sql_transaction: this read needs a read-write transaction first) while p_user_id has '
'V1-mode writes not imported into the event log yet (public.legacy_checkin_changes); else nothing.';
