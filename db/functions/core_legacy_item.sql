-- depends: functions/core_checkin_item.sql, functions/core_legacy_fields.sql
-- A row of the legacy table as the V1 API item: the same core.checkin_item as the V2 read path.

CREATE OR REPLACE FUNCTION core.legacy_item(d public.daily_checkins)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT core.checkin_item(
        d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type, core.legacy_fields(d)
    )
$$;

COMMENT ON FUNCTION core.legacy_item(public.daily_checkins) IS
'A daily_checkins row as the V1 API item {id, fields:{...row...}, ...row...} (core.checkin_item), identical in '
'shape and values to the V2 read path''s item of the same check-in.';
