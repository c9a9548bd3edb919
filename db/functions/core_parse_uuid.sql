-- A UUID of a request: NV400 naming the field otherwise.

CREATE OR REPLACE FUNCTION core.parse_uuid(value text, field text)
RETURNS uuid
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF value !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN
        PERFORM core.fail(400, field || ' must be a UUID', 'VALIDATION_ERROR', jsonb_build_object('field', field));
    END IF;
    RETURN value::uuid;
END
$$;
COMMENT ON FUNCTION core.parse_uuid(text, text) IS
'A UUID string (8-4-4-4-12 hex digits) as uuid; NULL stays NULL; NV400 "<field> must be a UUID" naming the field.';
