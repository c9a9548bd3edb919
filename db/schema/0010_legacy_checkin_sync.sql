-- V1 mode on the legacy table and its synchronisation with the event log (docs/v1-v2-sync.md).
--
-- 1. daily_checkins.fields: the complete validated answer object of a check-in written by the V1-mode
--    functions (api.v1_*), nulls and exact JSON types included. NULL for rows written by anything else
--    (an older V1 deployment, a psql user): their fields are then derived from the typed columns, the
--    extra_fields and any columns this schema does not know (core.legacy_fields).
-- 2. legacy_checkin_changes: the log of writes to daily_checkins that did not come from the V2 path,
--    filled by statement triggers (transition tables, so bulk loads cost one INSERT per statement).
--    core.sync_legacy_checkins applies and consumes it.
-- 3. The V2 write functions keep daily_checkins current themselves (same transaction) and mark their
--    writes with the transaction-local setting novara.sync_source = 'v2', which the triggers skip.
--
-- The trigger functions are defined here with the triggers (like 0007's identity functions): the log
-- must exist and be filled from the moment this migration commits, before the repeatable files (which
-- hold the V1 functions, the import and the backfill) are applied. A change to them is a new migration.

ALTER TABLE public.daily_checkins ADD COLUMN fields jsonb;
ALTER TABLE public.daily_checkins ADD CONSTRAINT daily_checkins_fields_object
CHECK (fields IS NULL OR jsonb_typeof(fields) = 'object');
COMMENT ON COLUMN public.daily_checkins.fields IS
'Every answer of the check-in as given (validated; nulls and JSON types kept), written by the api.v1_* '
'functions and by the V2 dual write; the typed columns and extra_fields hold the same values for psql users. '
'NULL when another writer stored the row (or changed its columns without it): the fields are then derived '
'from the columns (core.legacy_fields).';

CREATE TABLE public.legacy_checkin_changes (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    checkin_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    op text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT legacy_checkin_changes_op_check CHECK (op IN ('insert', 'update', 'delete'))
);
CREATE INDEX legacy_checkin_changes_user ON public.legacy_checkin_changes (user_id, position);
COMMENT ON TABLE public.legacy_checkin_changes IS
'Pending writes to daily_checkins made outside the V2 path (V1 mode, psql, an older V1 deployment), in '
'commit-independent allocation order (position). core.sync_legacy_checkins imports them into the event log '
'and deletes the rows it applied; an empty table means the event log reflects every legacy write.';
COMMENT ON COLUMN public.legacy_checkin_changes.op IS 'insert, update or delete of daily_checkins row checkin_id.';

ALTER TABLE public.legacy_checkin_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.legacy_checkin_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY legacy_checkin_changes_owner ON public.legacy_checkin_changes
USING (user_id = (SELECT core.current_user_id()))
WITH CHECK (user_id = (SELECT core.current_user_id()));
CREATE POLICY legacy_checkin_changes_analyst_read ON public.legacy_checkin_changes
FOR SELECT TO novara_analyst USING (TRUE);

-- The trigger below writes the log as the owner of this schema (SECURITY DEFINER), whoever changed
-- daily_checkins (a DBA with no privilege on the log, a bulk load naming no user): the owner may log any row.
CREATE POLICY legacy_checkin_changes_logger ON public.legacy_checkin_changes
FOR INSERT TO current_user WITH CHECK (TRUE);

-- No privilege for novara_api: the log is internal. The definer's import reads and consumes it.
GRANT SELECT, DELETE ON public.legacy_checkin_changes TO novara_definer;
GRANT SELECT ON public.legacy_checkin_changes TO novara_analyst;

-- A writer that keeps the typed columns but not "fields" (psql, an older V1 deployment) makes "fields"
-- stale: drop it, so readers derive the fields from the columns again. A check-in keeps its id and owner
-- (the event log's correlation_id and row-level security rely on both): change them by delete + insert.
CREATE FUNCTION core.daily_checkins_fields_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    own CONSTANT text[] := ARRAY['id', 'user_id', 'date_submitted', 'checkin_type', 'created_at', 'updated_at',
        'fields'];
BEGIN
    IF NEW.id <> OLD.id OR NEW.user_id <> OLD.user_id THEN
        RAISE EXCEPTION 'daily_checkins: a check-in''s id and user_id cannot change'
            USING ERRCODE = 'check_violation', HINT = 'Delete the row and insert a new one.';
    END IF;
    IF NEW.fields IS NOT NULL
        AND NEW.fields IS NOT DISTINCT FROM OLD.fields
        AND (to_jsonb(NEW) - own) IS DISTINCT FROM (to_jsonb(OLD) - own) THEN
        NEW.fields := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION core.daily_checkins_fields_guard() IS
'Trigger (BEFORE UPDATE on daily_checkins): refuses a change of id or user_id (check_violation); when an answer '
'column or extra_fields changes but "fields" does not, sets fields to NULL so the fields are derived from the '
'columns again (no stale copy).';

CREATE TRIGGER daily_checkins_fields_guard
BEFORE UPDATE ON public.daily_checkins
FOR EACH ROW EXECUTE FUNCTION core.daily_checkins_fields_guard();

-- SECURITY DEFINER: the writer of daily_checkins needs no privilege on the log (see the logger policy).
CREATE FUNCTION core.daily_checkins_log_changes()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF current_setting('novara.sync_source', TRUE) = 'v2' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.legacy_checkin_changes (checkin_id, user_id, op)
        SELECT n.id, n.user_id, 'insert' FROM new_rows AS n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO public.legacy_checkin_changes (checkin_id, user_id, op)
        SELECT n.id, n.user_id, 'update' FROM new_rows AS n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.legacy_checkin_changes (checkin_id, user_id, op)
        SELECT o.id, o.user_id, 'delete' FROM old_rows AS o;
    ELSE
        -- TRUNCATE (BEFORE, so the rows are still there): a delete of every row.
        INSERT INTO public.legacy_checkin_changes (checkin_id, user_id, op)
        SELECT d.id, d.user_id, 'delete' FROM public.daily_checkins AS d;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION core.daily_checkins_log_changes() IS
'Trigger (AFTER INSERT/UPDATE/DELETE, BEFORE TRUNCATE on daily_checkins, per statement): appends one '
'legacy_checkin_changes row per written row, unless the V2 path wrote it (transaction-local '
'novara.sync_source = ''v2''). Runs as the schema owner, so writers need no privilege on the log.';

CREATE TRIGGER daily_checkins_log_insert
AFTER INSERT ON public.daily_checkins
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION core.daily_checkins_log_changes();

CREATE TRIGGER daily_checkins_log_update
AFTER UPDATE ON public.daily_checkins
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION core.daily_checkins_log_changes();

CREATE TRIGGER daily_checkins_log_delete
AFTER DELETE ON public.daily_checkins
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION core.daily_checkins_log_changes();

CREATE TRIGGER daily_checkins_log_truncate
BEFORE TRUNCATE ON public.daily_checkins
FOR EACH STATEMENT EXECUTE FUNCTION core.daily_checkins_log_changes();

COMMENT ON TABLE public.daily_checkins IS
'Legacy V1 check-in table (one mutable row per check-in): what V1 mode (USE_SCHEMA_V2=false, api.v1_*) reads '
'and writes, kept current by the V2 write functions in the same transaction, so either mode sees every check-in. '
'Columns for the core fields, every other accepted field in extra_fields, all of them as given in fields. '
'Writes outside the V2 path are logged in legacy_checkin_changes and imported into the event log.';
