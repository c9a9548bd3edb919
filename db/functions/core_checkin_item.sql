-- depends: functions/core_checkin_row.sql
-- The V1 check-in item: {id, fields:{...row...}, ...row...}, the same from both read paths.

CREATE OR REPLACE FUNCTION core.checkin_item(
    p_id uuid,
    p_user_id uuid,
    p_date date,
    p_created_at timestamptz,
    p_updated_at timestamptz,
    p_checkin_type text,
    p_fields jsonb
)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    -- OFFSET 0: the row is built once (a flattened subquery would build it once per use of r.obj).
    SELECT r.obj || jsonb_build_object('fields', r.obj)
    FROM (
        SELECT core.checkin_row(p_id, p_user_id, p_date, p_created_at, p_updated_at, p_checkin_type, p_fields)
        OFFSET 0
    ) AS r (obj)
$$;

COMMENT ON FUNCTION core.checkin_item(uuid, uuid, date, timestamptz, timestamptz, text, jsonb) IS
'A check-in item of the V1 API: {id, fields:{...row...}, ...row...} (the row flat as well, compat).';
