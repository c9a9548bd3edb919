-- Validation of an event's payload against its type's rules in the event_types registry.
-- Adding an event type is an INSERT into public.event_types: this function reads the rules at call time.

CREATE OR REPLACE FUNCTION core.validate_event_data(p_event_type text, p_data jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    v_rules jsonb;
    v_required jsonb;
    v_props jsonb;
    v_key text;
    v_rule jsonb;
    v_kind text;
    v_allowed text[];
    v_value jsonb;
    v_out jsonb;
BEGIN
    SELECT t.rules INTO v_rules FROM public.event_types AS t WHERE t.event_type = p_event_type;
    IF NOT FOUND THEN
        -- The registered types are named, so a client (and the API docs' test) learns the accepted values.
        PERFORM core.fail(400, 'Unknown event_type: ' || coalesce(p_event_type, 'null'), 'VALIDATION_ERROR',
            jsonb_build_object('field', 'event_type', 'allowed', (
                SELECT jsonb_agg(t.event_type ORDER BY t.event_type) FROM public.event_types AS t
            )));
    END IF;

    IF p_data IS NULL OR jsonb_typeof(p_data) <> 'object' THEN
        PERFORM core.fail(400, 'event_data must be an object', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'event_data'));
    END IF;

    -- Size limits first: nothing else is worth checking on an oversized payload.
    IF (SELECT count(*) FROM jsonb_object_keys(p_data)) > 64 THEN
        PERFORM core.fail(413, 'event_data has too many keys (max 64)', 'PAYLOAD_TOO_LARGE',
            jsonb_build_object('field', 'event_data', 'max_keys', 64));
    END IF;
    IF octet_length(p_data::text) > 16384 THEN
        PERFORM core.fail(413, 'event_data is too large (max 16 KiB)', 'PAYLOAD_TOO_LARGE',
            jsonb_build_object('field', 'event_data', 'max_bytes', 16384));
    END IF;

    v_required := coalesce(v_rules -> 'required', '[]'::jsonb);
    v_props := coalesce(v_rules -> 'properties', '{}'::jsonb);

    FOR v_key IN SELECT r.k FROM jsonb_array_elements_text(v_required) WITH ORDINALITY AS r (k, n) ORDER BY r.n LOOP
        IF coalesce(jsonb_typeof(p_data -> v_key), 'null') = 'null' THEN
            PERFORM core.fail(400, 'event_data.' || v_key || ' is required', 'VALIDATION_ERROR',
                jsonb_build_object('field', 'event_data.' || v_key));
        END IF;
    END LOOP;

    v_out := p_data;
    FOR v_key, v_rule IN SELECT p.key, p.value FROM jsonb_each(v_props) AS p ORDER BY p.key LOOP
        CONTINUE WHEN NOT p_data ? v_key;
        v_value := p_data -> v_key;
        v_kind := coalesce(v_rule ->> 'type', 'string');
        v_allowed := NULL;
        IF v_rule ? 'enum' THEN
            v_allowed := ARRAY(SELECT jsonb_array_elements_text(v_rule -> 'enum'));
            IF v_kind = 'string' THEN
                v_kind := 'enum';
            END IF;
        END IF;
        IF v_kind = 'array' AND v_rule ->> 'items' = 'string' THEN
            v_kind := 'string_array';
        END IF;
        v_value := core.check_value(
            'event_data.' || v_key, v_value, v_kind,
            (v_rule ->> 'minimum')::numeric, (v_rule ->> 'maximum')::numeric,
            (v_rule ->> 'maxLength')::integer, CASE WHEN v_kind = 'enum' THEN v_allowed END,
            (v_rule ->> 'minLength')::integer
        );
        -- Rules core.check_value does not know: enums on non-string types, maxItems.
        IF v_allowed IS NOT NULL AND v_kind <> 'enum' AND jsonb_typeof(v_value) <> 'null'
            AND NOT (v_value #>> '{}') = ANY (v_allowed) THEN
            PERFORM core.fail(400, 'event_data.' || v_key || ' must be one of: ' || array_to_string(v_allowed, ', '),
                'VALIDATION_ERROR',
                jsonb_build_object('field', 'event_data.' || v_key, 'allowed', to_jsonb(v_allowed)));
        END IF;
        IF jsonb_typeof(v_value) = 'array' AND jsonb_array_length(v_value) > (v_rule ->> 'maxItems')::integer THEN
            PERFORM core.fail(400, 'event_data.' || v_key || ' must have at most ' || (v_rule ->> 'maxItems')
                || ' items', 'VALIDATION_ERROR', jsonb_build_object('field', 'event_data.' || v_key));
        END IF;
        v_out := jsonb_set(v_out, ARRAY[v_key], v_value);
    END LOOP;

    RETURN v_out;
END
$$;

COMMENT ON FUNCTION core.validate_event_data(text, jsonb) IS
'Validate event_data against public.event_types.rules of p_event_type and return it normalised (integer '
'strings become numbers). NV400 for an unknown type, a non-object, a missing or invalid key (naming '
'event_data.<key>); NV413 above 64 keys or 16 KiB.';
