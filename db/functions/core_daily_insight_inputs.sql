-- The fingerprint of what a daily insight is computed from: a stored insight is reused only while it is
-- unchanged (api.daily_insight).

CREATE OR REPLACE FUNCTION core.daily_insight_inputs(p_user_id uuid, p_facts jsonb)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- The facts are everything the daily rules and templates read (the window's check-ins, the name), so a
    -- new, corrected or retracted check-in that changes a figure changes them. The user's latest event
    -- position is there too, so any later write (a retraction that brings the figures back to an earlier
    -- state included) gives a new insight rather than an older one; it is not relied on alone because
    -- positions are allocated in insert order, not commit order. The enabled daily rules complete it: an
    -- edited rule or message applies at the next request.
    SELECT md5(jsonb_build_object(
        'facts', p_facts,
        'latest_event', (SELECT max(e.position) FROM public.health_events AS e WHERE e.user_id = p_user_id),
        'rules', (
            SELECT string_agg(md5(to_jsonb(r)::text), ',' ORDER BY r.rule_key)
            FROM public.insight_rules AS r
            WHERE r.rule_set = 'daily' AND r.enabled
        )
    )::text)
$$;

COMMENT ON FUNCTION core.daily_insight_inputs(uuid, jsonb) IS
'Fingerprint (md5) of a daily insight''s inputs: the facts it is computed from (core.daily_insight_facts and '
'the name), the user''s latest event position (index health_events_user_position) and the enabled daily '
'rules. Stored in insights.inputs_fingerprint.';
