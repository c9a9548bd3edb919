-- POST /api/insights/feedback (contract 5): was one of the caller's insights helpful?

-- SECURITY DEFINER: the gateway role has no table privileges; row-level security still applies since the
-- owner novara_definer is not BYPASSRLS.
CREATE OR REPLACE FUNCTION api.insight_feedback(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    a jsonb := coalesce(args, '{}'::jsonb);
    v_insight uuid;
    v_helpful boolean;
    v_comment text;
    fb public.insight_feedback;
BEGIN
    IF nullif(a -> 'insight_id', 'null'::jsonb) IS NULL OR nullif(a -> 'helpful', 'null'::jsonb) IS NULL THEN
        PERFORM core.fail(400, 'Missing required fields: insight_id, helpful', 'VALIDATION_ERROR',
            jsonb_build_object('fields', jsonb_build_array('insight_id', 'helpful')));
    END IF;
    v_insight := core.parse_uuid(core.check_value('insight_id', a -> 'insight_id', 'string') #>> '{}', 'insight_id');
    v_helpful := (core.check_value('helpful', a -> 'helpful', 'boolean') #>> '{}')::boolean;
    v_comment := nullif(btrim(core.check_value('comment', a -> 'comment', 'string', max_length => 2000) #>> '{}'), '');
    IF NOT EXISTS (SELECT 1 FROM public.insights AS i WHERE i.id = v_insight AND i.user_id = uid) THEN
        PERFORM core.fail(404, 'Insight not found', 'NOT_FOUND');
    END IF;

    -- One answer per user and insight: a later answer replaces the earlier one (race-safe upsert).
    INSERT INTO public.insight_feedback AS f (user_id, insight_id, helpful, comment)
    VALUES (uid, v_insight, v_helpful, v_comment)
    ON CONFLICT (user_id, insight_id) DO UPDATE
        SET helpful = excluded.helpful, comment = excluded.comment, updated_at = now()
    RETURNING f.* INTO fb;

    RETURN jsonb_build_object(
        'success', TRUE,
        'message', 'Feedback recorded',
        'feedback', jsonb_build_object(
            'id', fb.id,
            'insight_id', fb.insight_id,
            'helpful', fb.helpful,
            'comment', fb.comment,
            'created_at', core.iso(fb.created_at),
            'updated_at', core.iso(fb.updated_at)
        )
    );
END
$$;

ALTER FUNCTION api.insight_feedback(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.insight_feedback(jsonb) IS
'POST /api/insights/feedback. args insight_id (one of the caller''s insights), helpful (boolean), comment? '
'(<= 2000). Stores or replaces the caller''s answer for that insight; {success, message, feedback}. NV400 Missing '
'required fields: insight_id, helpful / invalid field; NV404 Insight not found.';
