-- An instant of a request (ISO 8601 with an explicit offset): NV400 naming the field otherwise.

CREATE OR REPLACE FUNCTION core.parse_instant(value text, field text)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF value !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}(:?\d{2})?)$' THEN
        PERFORM core.fail(400, field || ' must be an ISO 8601 instant with offset (2026-11-29T18:04:05Z)',
            'VALIDATION_ERROR', jsonb_build_object('field', field));
    END IF;
    RETURN value::timestamptz;
EXCEPTION
    WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_time_zone_displacement_value THEN
        PERFORM core.fail(400, field || ' must be a real ISO 8601 instant', 'VALIDATION_ERROR',
            jsonb_build_object('field', field));
        RETURN NULL;
END
$$;
COMMENT ON FUNCTION core.parse_instant(text, text) IS
'An ISO 8601 instant with an explicit offset (Z or +hh:mm) as timestamptz; NV400 naming the field otherwise.';
