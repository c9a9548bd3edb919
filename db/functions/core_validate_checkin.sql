-- Validation of a V1 daily check-in, driven by the rows of public.checkin_fields.

CREATE OR REPLACE FUNCTION core.validate_checkin(args jsonb, partial boolean DEFAULT FALSE)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    -- Never stored as fields: the row's own columns, handled by the callers (date, type) or ignored.
    reserved CONSTANT text[] := ARRAY[
        'id', 'user_id', 'created_at', 'updated_at', 'date_submitted', 'checkin_type', 'idempotency_key'
    ];
    missing_msg CONSTANT text := 'Missing required fields: mood_today and confidence_today are required';
    result jsonb := '{}'::jsonb;
    extras integer := 0;
    entry record;
    rule public.checkin_fields;
    kind text;
    v jsonb;
    items integer[];
BEGIN
    IF args IS NULL OR jsonb_typeof(args) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;

    -- Required fields first (the contract's order: missing, then range). Absent is fine for a partial
    -- update; null or a blank string is "missing" either way.
    FOR rule IN SELECT * FROM public.checkin_fields AS f WHERE f.required ORDER BY f.field LOOP
        v := args -> rule.field;
        IF (v IS NULL AND NOT partial)
            OR jsonb_typeof(v) = 'null'
            OR (jsonb_typeof(v) = 'string' AND btrim(v #>> '{}') = '') THEN
            PERFORM core.fail(400, missing_msg, 'VALIDATION_ERROR',
                jsonb_build_object('fields', jsonb_build_array('mood_today', 'confidence_today')));
        END IF;
    END LOOP;

    -- confidence_today before the other fields, so its range message wins.
    FOR entry IN
        SELECT e.key, e.value, f AS rule
        FROM jsonb_each(args) AS e
        LEFT JOIN public.checkin_fields AS f ON f.field = e.key
        WHERE e.key <> ALL (reserved)
        ORDER BY e.key <> 'confidence_today', e.key
    LOOP
        IF (entry.rule).field IS NULL THEN
            -- An extra: any JSON, kept verbatim.
            extras := extras + 1;
            IF char_length(entry.key) > 100 THEN
                PERFORM core.fail(400, 'Field names must be at most 100 characters', 'VALIDATION_ERROR',
                    jsonb_build_object('field', left(entry.key, 100)));
            END IF;
            result := result || jsonb_build_object(entry.key, entry.value);
            CONTINUE;
        END IF;
        rule := entry.rule;
        kind := rule.kind;
        IF kind = 'integer_or_string' THEN
            -- "1-10 or text, as sent": a string stays a string, a number must be an integer in range.
            kind := CASE WHEN jsonb_typeof(entry.value) = 'string' THEN 'string' ELSE 'integer' END;
        END IF;
        result := result || jsonb_build_object(entry.key, core.check_value(
            entry.key, entry.value, kind, rule.min_value, rule.max_value, rule.max_length, rule.allowed,
            CASE WHEN rule.required THEN 1 END
        ));
    END LOOP;

    IF extras > 64 THEN
        PERFORM core.fail(400, 'Too many extra fields (at most 64 are accepted)', 'VALIDATION_ERROR',
            jsonb_build_object('extra_fields', extras));
    END IF;

    -- PHQ-4: with all four items answered, the scores are derived (and override what was sent).
    SELECT array_agg((result ->> i.item)::integer ORDER BY i.n) INTO items
    FROM unnest(ARRAY['phq4_feeling_nervous', 'phq4_stop_worrying', 'phq4_little_interest', 'phq4_feeling_down'])
        WITH ORDINALITY AS i (item, n)
    WHERE jsonb_typeof(result -> i.item) = 'number';
    IF cardinality(items) = 4 THEN
        result := result || jsonb_build_object(
            'phq4_score', items[1] + items[2] + items[3] + items[4],
            'phq4_anxiety', items[1] + items[2],
            'phq4_depression', items[3] + items[4]
        );
    END IF;

    RETURN result;
END
$$;

COMMENT ON FUNCTION core.validate_checkin(jsonb, boolean) IS
'Validate V1 check-in answers (args) against public.checkin_fields; returns the fields normalised (integer '
'strings -> numbers, PHQ-4 scores derived, extras verbatim, reserved keys dropped). partial (PUT): nothing '
'required. NV400 naming the field otherwise.';
