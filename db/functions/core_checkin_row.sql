-- depends: functions/core_iso.sql
-- The V1 check-in as JSON: the row {id, user_id, date_submitted, created_at, updated_at,
-- medication_taken, checkin_type, ...every field given}.

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
