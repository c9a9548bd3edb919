-- POST /api/insights/engagement: store one engagement action of the caller with an insight.

-- SECURITY DEFINER: see [definer] in db/README.md
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
    v_ref text;
BEGIN
    IF nullif(a -> 'insight_type', 'null'::jsonb) IS NULL OR nullif(a -> 'action', 'null'::jsonb) IS NULL THEN
        PERFORM core.fail(400, 'Missing required fields: insight_type, action', 'VALIDATION_ERROR',
            jsonb_build_object('fields', jsonb_build_array('insight_type', 'action')));
    END IF;
    v_type := btrim(core.check_value('insight_type', a -> 'insight_type', 'string', max_length => 50, min_length => 1)
        #>> '{}');
    v_action := core.check_value('action', a -> 'action', 'enum',
        allowed => ARRAY['viewed', 'clicked', 'dismissed', 'refreshed', 'liked', 'saved']) #>> '{}';
    -- The app's own ids ("no_data_1796605127098") are kept as the client's reference (core.insight_reference).
    SELECT r.insight_id, r.client_ref INTO v_insight, v_ref FROM core.insight_reference(uid, a -> 'insight_id') AS r;

    INSERT INTO public.insight_engagement (user_id, insight_id, client_ref, insight_type, action, local_date)
    VALUES (uid, v_insight, v_ref, v_type, v_action, core.user_today(uid));
    RETURN jsonb_build_object('success', TRUE, 'message', 'Engagement recorded');
END
$$;

ALTER FUNCTION api.record_engagement(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.record_engagement(jsonb) IS
'POST /api/insights/engagement. args insight_type (string <= 50), action (viewed | clicked | dismissed | refreshed | '
'liked | saved), insight_id? (any string <= 200: the UUID of one of the caller''s insights links the row, anything '
'else is kept as the client''s reference; core.insight_reference). Stores a row; {success, message}. NV400 '
'missing or invalid field.';
