-- depends: functions/core_json.sql
-- The V1 check-in as JSON (contract 3.2): the row {id, user_id, date_submitted, created_at, updated_at,
-- medication_taken, checkin_type, ...every field given} and the item {id, fields:{...row...}, ...row...}.

CREATE OR REPLACE FUNCTION core.checkin_row(
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
    SELECT coalesce(p_fields, '{}'::jsonb)
        || jsonb_build_object(
            'id', p_id,
            'user_id', p_user_id,
            'date_submitted', to_char(p_date, 'YYYY-MM-DD'),
            'created_at', core.iso(p_created_at),
            'updated_at', core.iso(p_updated_at),
            'checkin_type', p_checkin_type,
            'medication_taken', coalesce(p_fields ->> 'medication_taken', 'not tracked')
        )
$$;

COMMENT ON FUNCTION core.checkin_row(uuid, uuid, date, timestamptz, timestamptz, text, jsonb) IS
'A check-in row as JSON: the stored fields verbatim (exact JSON types) plus id, user_id, date_submitted, '
'created_at, updated_at, checkin_type; medication_taken defaults to "not tracked" (absent or null).';

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

CREATE OR REPLACE FUNCTION core.checkin_parse_id(value text)
RETURNS uuid
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF value IS NULL OR value !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    RETURN value::uuid;
END
$$;

COMMENT ON FUNCTION core.checkin_parse_id(text) IS
'A check-in id from a path as uuid; a missing or malformed id raises NV404 Check-in not found.';

CREATE OR REPLACE FUNCTION core.checkin_get(p_user_id uuid, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    item jsonb;
BEGIN
    SELECT core.checkin_item(c.id, c.user_id, c.date_submitted, c.created_at, c.updated_at, c.checkin_type, c.fields)
    INTO item
    FROM public.daily_checkins_legacy AS c
    WHERE c.id = p_id AND c.user_id = p_user_id;
    RETURN item;
END
$$;

COMMENT ON FUNCTION core.checkin_get(uuid, uuid) IS
'The item of the user''s live check-in p_id (read from daily_checkins_legacy), or NULL when there is none.';
