-- Instants as the API writes them: ISO 8601 in UTC, with milliseconds and the offset.

CREATE OR REPLACE FUNCTION core.iso(ts timestamptz)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
$$;
COMMENT ON FUNCTION core.iso(timestamptz) IS
'An instant as ISO 8601 in UTC with milliseconds and offset: 2026-11-29T18:04:05.123+00:00.';
