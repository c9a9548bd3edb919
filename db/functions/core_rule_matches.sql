-- Rules kept as data (public.insight_rules, public.checkin_questions): does a rule's condition hold for the facts?

CREATE OR REPLACE FUNCTION core.rule_matches(cond jsonb, facts jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    c jsonb;
    f jsonb;
    v jsonb;
    op text;
BEGIN
    IF cond IS NULL OR cond = '{}'::jsonb THEN
        RETURN TRUE;
    END IF;
    IF jsonb_typeof(cond) <> 'object' THEN
        RAISE EXCEPTION 'core.rule_matches: a condition must be a JSON object, got %', cond;
    END IF;
    IF cond ? 'all' THEN
        FOR c IN SELECT x.elem FROM jsonb_array_elements(cond -> 'all') AS x (elem) LOOP
            IF NOT core.rule_matches(c, facts) THEN
                RETURN FALSE;
            END IF;
        END LOOP;
        RETURN TRUE;
    ELSIF cond ? 'any' THEN
        FOR c IN SELECT x.elem FROM jsonb_array_elements(cond -> 'any') AS x (elem) LOOP
            IF core.rule_matches(c, facts) THEN
                RETURN TRUE;
            END IF;
        END LOOP;
        RETURN FALSE;
    ELSIF cond ? 'not' THEN
        RETURN NOT core.rule_matches(cond -> 'not', facts);
    ELSIF NOT cond ? 'fact' THEN
        RAISE EXCEPTION 'core.rule_matches: unknown condition %', cond;
    END IF;

    op := cond ->> 'op';
    f := nullif(coalesce(facts, '{}'::jsonb) -> (cond ->> 'fact'), 'null'::jsonb);
    v := cond -> 'value';
    IF op = 'is_null' THEN
        RETURN f IS NULL;
    ELSIF op = 'not_null' THEN
        RETURN f IS NOT NULL;
    ELSIF op NOT IN ('=', '<>', '>', '>=', '<', '<=', 'in') OR op IS NULL THEN
        RAISE EXCEPTION 'core.rule_matches: unknown op % in %', op, cond;
    END IF;
    IF f IS NULL THEN
        RETURN FALSE;  -- an absent or null fact never compares
    END IF;
    IF op = '=' THEN
        RETURN f = v;
    ELSIF op = '<>' THEN
        RETURN f <> v;
    ELSIF op = 'in' THEN
        RETURN jsonb_typeof(v) = 'array' AND v @> jsonb_build_array(f);
    ELSIF jsonb_typeof(f) = 'number' AND jsonb_typeof(v) = 'number' THEN
        RETURN CASE op
            WHEN '>' THEN (f #>> '{}')::numeric > (v #>> '{}')::numeric
            WHEN '>=' THEN (f #>> '{}')::numeric >= (v #>> '{}')::numeric
            WHEN '<' THEN (f #>> '{}')::numeric < (v #>> '{}')::numeric
            ELSE (f #>> '{}')::numeric <= (v #>> '{}')::numeric
        END;
    ELSIF jsonb_typeof(f) = 'string' AND jsonb_typeof(v) = 'string' THEN
        RETURN CASE op
            WHEN '>' THEN (f #>> '{}') > (v #>> '{}')
            WHEN '>=' THEN (f #>> '{}') >= (v #>> '{}')
            WHEN '<' THEN (f #>> '{}') < (v #>> '{}')
            ELSE (f #>> '{}') <= (v #>> '{}')
        END;
    END IF;
    RETURN FALSE;
END
$$;

COMMENT ON FUNCTION core.rule_matches(jsonb, jsonb) IS
'Evaluate a rule condition over facts: {} true; {"all": [...]}, {"any": [...]}, {"not": c}; {"fact", "op" '
'(= <> > >= < <= in is_null not_null), "value"}. Absent/null facts compare false; ordering compares numbers '
'with numbers and strings with strings. Raises on an unknown condition or op (a data error).';
