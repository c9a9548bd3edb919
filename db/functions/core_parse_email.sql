-- The email of a signup or login body: required, a string, compared trimmed and lower-cased.

CREATE OR REPLACE FUNCTION core.parse_email(p_value jsonb, p_check_format boolean DEFAULT TRUE)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    v_email text;
BEGIN
    PERFORM core.require_value('email', p_value, 'Email is required');
    IF jsonb_typeof(p_value) <> 'string' THEN
        PERFORM core.fail(400, 'Invalid email format', 'VALIDATION_ERROR', '{"field": "email"}');
    END IF;
    v_email := lower(regexp_replace(p_value #>> '{}', '^\s+|\s+$', '', 'g'));
    IF p_check_format THEN
        IF v_email !~ '^[^\s@]+@[^\s@]+\.[^\s@]+$' THEN
            PERFORM core.fail(400, 'Invalid email format', 'VALIDATION_ERROR', '{"field": "email"}');
        END IF;
        IF char_length(v_email) > 254 THEN
            PERFORM core.fail(400, 'Email address too long', 'VALIDATION_ERROR', '{"field": "email"}');
        END IF;
    END IF;
    RETURN v_email;
END
$$;

COMMENT ON FUNCTION core.parse_email(jsonb, boolean) IS
'The email of a request body, trimmed and lower-cased. NV400 naming email: Email is required (missing, null, '
'blank) / Invalid email format (not a string; with p_check_format not local@domain.tld) / Email address too '
'long (with p_check_format, over 254 characters).';
