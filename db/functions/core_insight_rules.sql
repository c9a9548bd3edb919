-- Rules kept as data (public.insight_rules, public.checkin_questions): evaluating a condition over facts,
-- filling a template from facts, the matching rules of a set, and lenient numbers from client JSON.

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

CREATE OR REPLACE FUNCTION core.render_template(tpl text, facts jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    result text := tpl;
    k text;
    v text;
BEGIN
    IF tpl IS NULL OR strpos(tpl, '{') = 0 THEN
        RETURN tpl;
    END IF;
    FOR k, v IN SELECT e.key, e.value FROM jsonb_each_text(coalesce(facts, '{}'::jsonb)) AS e LOOP
        IF strpos(result, '{' || k || '}') > 0 THEN
            result := replace(result, '{' || k || '}', coalesce(v, ''));
        END IF;
    END LOOP;
    RETURN result;
END
$$;

COMMENT ON FUNCTION core.render_template(text, jsonb) IS
'Fill {name} placeholders of a template with the facts'' values (as text; null facts become empty); unknown '
'placeholders stay as they are. NULL template: NULL.';

CREATE OR REPLACE FUNCTION core.matching_rules(p_rule_set text, p_facts jsonb)
RETURNS SETOF public.insight_rules
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT r.*
    FROM public.insight_rules AS r
    WHERE r.rule_set = p_rule_set AND r.enabled AND core.rule_matches(r.condition, p_facts)
    ORDER BY r.priority DESC, r.rule_key
$$;

COMMENT ON FUNCTION core.matching_rules(text, jsonb) IS
'The enabled rules of a rule set whose condition holds for the facts, highest priority first (then rule_key).';

CREATE OR REPLACE FUNCTION core.json_number(value jsonb)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric
        WHEN jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\s*-?\d{1,9}(\.\d{1,6})?\s*$'
            THEN btrim(value #>> '{}')::numeric
    END
$$;

COMMENT ON FUNCTION core.json_number(jsonb) IS
'A JSON number, or a string holding a plain decimal number ("7", "6.5"), as numeric; anything else NULL.';

CREATE OR REPLACE FUNCTION core.squish(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT nullif(regexp_replace(regexp_replace(value, '\s+', ' ', 'g'), '^ | $', '', 'g'), '')
$$;

COMMENT ON FUNCTION core.squish(text) IS
'Text with every run of whitespace (newlines, tabs included) made one space and the ends trimmed; NULL if empty.';
