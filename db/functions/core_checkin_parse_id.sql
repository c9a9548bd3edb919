-- A check-in id from a route's path: anything but a UUID is a check-in that does not exist.

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
