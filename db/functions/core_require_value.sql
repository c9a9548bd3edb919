-- A required value of a request body: missing, JSON null and blank strings are "not given".

CREATE OR REPLACE FUNCTION core.require_value(p_field text, p_value jsonb, p_message text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null'
        OR (jsonb_typeof(p_value) = 'string' AND (p_value #>> '{}') ~ '^\s*$') THEN
        PERFORM core.fail(400, coalesce(p_message, p_field || ' is required'), 'VALIDATION_ERROR',
            jsonb_build_object('field', p_field));
    END IF;
    RETURN p_value;
END
$$;

COMMENT ON FUNCTION core.require_value(text, jsonb, text) IS
'p_value unchanged when given; when missing, JSON null or a blank string NV400 p_message (default '
'"<p_field> is required") naming p_field.';
