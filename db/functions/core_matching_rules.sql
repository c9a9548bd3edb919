-- depends: functions/core_rule_matches.sql
-- Rules kept as data (public.insight_rules): the rules of a set whose condition holds for the facts.

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
