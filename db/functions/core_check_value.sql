-- One JSON value of a request against one rule (kind, bounds, length, allowed values): the check behind every
-- registry-driven validation (check-in fields, event data, profile fields) and the routes' arguments.

-- One value against one rule. kind: string, integer, number, boolean, object, array, string_array,
-- integer_or_string, enum. Integers may arrive as strings of digits ("7") and come back as numbers.
-- NULL (SQL or JSON) means "not answered" and is returned as JSON null; the caller decides if required.
CREATE OR REPLACE FUNCTION core.check_value(
    field text,
    value jsonb,
    kind text,
    min_value numeric DEFAULT NULL,
    max_value numeric DEFAULT NULL,
    max_length integer DEFAULT NULL,
    allowed text[] DEFAULT NULL,
    min_length integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    t text := jsonb_typeof(value);
    n numeric;
    item jsonb;
    detail jsonb := jsonb_build_object('field', field);
BEGIN
    IF value IS NULL OR t = 'null' THEN
        RETURN 'null'::jsonb;
    END IF;

    IF kind = 'integer_or_string' THEN
        IF t = 'string' AND value #>> '{}' !~ '^\s*-?\d{1,9}\s*$' THEN
            kind := 'string';
        ELSE
            kind := 'integer';
        END IF;
    END IF;

    CASE kind
    WHEN 'string' THEN
        IF t <> 'string' THEN
            PERFORM core.fail(400, field || ' must be a string', 'VALIDATION_ERROR', detail);
        END IF;
        IF char_length(value #>> '{}') > max_length THEN
            PERFORM core.fail(400, field || ' must be at most ' || max_length || ' characters',
                'VALIDATION_ERROR', detail);
        END IF;
        IF char_length(btrim(value #>> '{}')) < min_length THEN
            PERFORM core.fail(400, field || ' must not be empty', 'VALIDATION_ERROR', detail);
        END IF;
        RETURN value;
    WHEN 'integer', 'number' THEN
        IF t = 'string' AND kind = 'integer' AND value #>> '{}' ~ '^\s*-?\d{1,9}\s*$' THEN
            n := btrim(value #>> '{}')::numeric;
        ELSIF t = 'number' THEN
            n := (value #>> '{}')::numeric;
        ELSE
            PERFORM core.fail(400, field || ' must be ' || CASE WHEN kind = 'integer' THEN 'an integer'
                ELSE 'a number' END, 'VALIDATION_ERROR', detail);
        END IF;
        IF kind = 'integer' AND n <> trunc(n) THEN
            PERFORM core.fail(400, field || ' must be an integer', 'VALIDATION_ERROR', detail);
        END IF;
        IF n < min_value OR n > max_value THEN
            PERFORM core.fail(400,
                field || ' must be between ' || coalesce(min_value::text, '-inf') || ' and '
                || coalesce(max_value::text, 'inf'),
                'VALIDATION_ERROR', detail);
        END IF;
        IF abs(n) > 1e15 THEN
            PERFORM core.fail(400, field || ' is out of range', 'VALIDATION_ERROR', detail);
        END IF;
        RETURN to_jsonb(CASE WHEN kind = 'integer' THEN trunc(n) ELSE n END);
    WHEN 'boolean' THEN
        IF t <> 'boolean' THEN
            PERFORM core.fail(400, field || ' must be true or false', 'VALIDATION_ERROR', detail);
        END IF;
        RETURN value;
    WHEN 'object' THEN
        IF t <> 'object' THEN
            PERFORM core.fail(400, field || ' must be an object', 'VALIDATION_ERROR', detail);
        END IF;
        RETURN value;
    WHEN 'array', 'string_array' THEN
        IF t <> 'array' THEN
            PERFORM core.fail(400, field || ' must be an array', 'VALIDATION_ERROR', detail);
        END IF;
        IF jsonb_array_length(value) > 100 THEN
            PERFORM core.fail(400, field || ' must have at most 100 items', 'VALIDATION_ERROR', detail);
        END IF;
        IF kind = 'string_array' THEN
            FOR item IN SELECT a.elem FROM jsonb_array_elements(value) AS a (elem) LOOP
                IF jsonb_typeof(item) <> 'string' THEN
                    PERFORM core.fail(400, field || ' must be an array of strings', 'VALIDATION_ERROR', detail);
                END IF;
                IF char_length(item #>> '{}') > coalesce(max_length, 1000) THEN
                    PERFORM core.fail(400, field || ' items must be at most '
                        || coalesce(max_length, 1000) || ' characters', 'VALIDATION_ERROR', detail);
                END IF;
            END LOOP;
        END IF;
        RETURN value;
    WHEN 'enum' THEN
        IF t <> 'string' OR NOT (value #>> '{}') = ANY (allowed) THEN
            PERFORM core.fail(400, field || ' must be one of: ' || array_to_string(allowed, ', '),
                'VALIDATION_ERROR', detail || jsonb_build_object('allowed', to_jsonb(allowed)));
        END IF;
        RETURN value;
    ELSE
        RAISE EXCEPTION 'core.check_value: unknown kind %', kind;
    END CASE;
END
$$;
COMMENT ON FUNCTION core.check_value(text, jsonb, text, numeric, numeric, integer, text[], integer) IS
'Validate one JSON value against one rule (kind, bounds, length, allowed values); returns it normalised '
'(integer strings become numbers) or raises NV400 naming the field. JSON null passes as "not answered".';
