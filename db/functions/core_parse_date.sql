-- A date of a request (YYYY-MM-DD): NV400 naming the field unless it is a real calendar date.

CREATE OR REPLACE FUNCTION core.parse_date(value text, field text)
RETURNS date
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF value !~ '^\d{4}-\d{2}-\d{2}$' THEN
        PERFORM core.fail(400, field || ' must be a date (YYYY-MM-DD)', 'VALIDATION_ERROR',
            jsonb_build_object('field', field));
    END IF;
    -- to_date would roll 2026-02-30 over to March; the cast refuses it.
    RETURN value::date;
EXCEPTION
    WHEN datetime_field_overflow OR invalid_datetime_format THEN
        PERFORM core.fail(400, field || ' must be a real calendar date (YYYY-MM-DD)', 'VALIDATION_ERROR',
            jsonb_build_object('field', field));
        RETURN NULL;
END
$$;
COMMENT ON FUNCTION core.parse_date(text, text) IS
'A YYYY-MM-DD string as a date; NV400 naming the field when it is not a real calendar date.';
