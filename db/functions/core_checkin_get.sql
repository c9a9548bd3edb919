-- depends: functions/core_legacy_item.sql
-- One check-in of the read model, daily_checkins, as its item: GET /api/checkins/{id} of both modes, and the
-- check-in the V2 writes answer with (read back from the database, not echoed).

CREATE OR REPLACE FUNCTION core.checkin_get(p_user_id uuid, p_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT core.legacy_item(d) FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id
$$;

COMMENT ON FUNCTION core.checkin_get(uuid, uuid) IS
'The item {id, fields:{...row...}, ...row...} of the user''s check-in p_id (daily_checkins, core.legacy_item), or '
'NULL when there is none.';
