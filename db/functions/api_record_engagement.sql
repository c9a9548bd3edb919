-- POST /api/insights/engagement (contract 5): store one engagement action of the caller with an insight.

-- SECURITY DEFINER: the gateway role has no table privileges; row-level security still applies since the
-- owner novara_definer is not BYPASSRLS.
CREATE OR REPLACE FUNCTION api.record_engagement(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    a jsonb := coalesce(args, '{}'::jsonb);
    v_type text;
    v_action text;
    v_insight uuid;
BEGIN
    IF nullif(a -> 'insight_type', 'null'::jsonb) IS NULL OR nullif(a -> 'action', 'null'::jsonb) IS NULL THEN
        PERFORM core.fail(400, 'Missing required fields: insight_type, action', 'VALIDATION_ERROR',
            jsonb_build_object('fields', jsonb_build_array('insight_type', 'action')));
    END IF;
    v_type := btrim(core.check_value('insight_type', a -> 'insight_type', 'string', max_length => 50, min_length => 1)
        #>> '{}');
    v_action := core.check_value('action', a -> 'action', 'enum',
        allowed => ARRAY['viewed', 'clicked', 'dismissed', 'refreshed', 'liked', 'saved']) #>> '{}';
    v_insight := core.parse_uuid(core.check_value('insight_id', a -> 'insight_id', 'string') #>> '{}', 'insight_id');
    IF v_insight IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM public.insights AS i WHERE i.id = v_insight AND i.user_id = uid
    ) THEN
        PERFORM core.fail(404, 'Insight not found', 'NOT_FOUND');
    END IF;

    INSERT INTO public.insight_engagement (user_id, insight_id, insight_type, action, local_date)
    VALUES (uid, v_insight, v_type, v_action, core.local_date(uid));
    RETURN jsonb_build_object('success', TRUE, 'message', 'Engagement recorded');
END
$$;

ALTER FUNCTION api.record_engagement(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.record_engagement(jsonb) IS
'POST /api/insights/engagement. args insight_type (string <= 50), action (viewed | clicked | dismissed | refreshed | '
'liked | saved), insight_id? (one of the caller''s insights). Stores a row; {success, message}. NV400 missing or '
'invalid field; NV404 Insight not found (unknown or another user''s insight_id).';
