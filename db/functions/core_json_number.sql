-- Lenient numbers from client JSON: a number, or a string holding one.

CREATE OR REPLACE FUNCTION core.json_number(value jsonb)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric
        WHEN jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\s*-?\d{1,9}(\.\d{1,6})?\s*$'
            THEN btrim(value #>> '{}')::numeric
    END
$$;

COMMENT ON FUNCTION core.json_number(jsonb) IS
'A JSON number, or a string holding a plain decimal number ("7", "6.5"), as numeric; anything else NULL.';
