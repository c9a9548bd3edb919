-- Rules kept as data (public.insight_rules, public.checkin_questions): a rule's text filled from the facts.

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
