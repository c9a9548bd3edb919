-- POST /api/insights/feedback: was an insight the caller was shown helpful?

-- SECURITY DEFINER: see [definer] in db/README.md
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
    v_ref text;
    v_helpful boolean;
    v_comment text;
    fb public.insight_feedback;
BEGIN
    IF nullif(a -> 'insight_id', 'null'::jsonb) IS NULL OR nullif(a -> 'helpful', 'null'::jsonb) IS NULL THEN
        PERFORM core.fail(400, 'Missing required fields: insight_id, helpful', 'VALIDATION_ERROR',
            jsonb_build_object('fields', jsonb_build_array('insight_id', 'helpful')));
    END IF;
    -- The app's own ids are kept as the client's reference (core.insight_reference); only blank is refused.
    SELECT r.insight_id, r.client_ref INTO v_insight, v_ref FROM core.insight_reference(uid, a -> 'insight_id') AS r;
    IF v_insight IS NULL AND v_ref IS NULL THEN
        PERFORM core.fail(400, 'insight_id must not be empty', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'insight_id'));
    END IF;
    v_helpful := (core.check_value('helpful', a -> 'helpful', 'boolean') #>> '{}')::boolean;
    v_comment := nullif(btrim(core.check_value('comment', a -> 'comment', 'string', max_length => 2000) #>> '{}'), '');

    -- One answer per user and insight (or reference): a later answer replaces the earlier one (race-safe upsert).
    IF v_insight IS NOT NULL THEN
        INSERT INTO public.insight_feedback AS f (user_id, insight_id, helpful, comment)
        VALUES (uid, v_insight, v_helpful, v_comment)
        ON CONFLICT (user_id, insight_id) DO UPDATE
            SET helpful = excluded.helpful, comment = excluded.comment, updated_at = now()
        RETURNING f.* INTO fb;
    ELSE
        INSERT INTO public.insight_feedback AS f (user_id, client_ref, helpful, comment)
        VALUES (uid, v_ref, v_helpful, v_comment)
        ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO UPDATE
            SET helpful = excluded.helpful, comment = excluded.comment, updated_at = now()
        RETURNING f.* INTO fb;
    END IF;

    RETURN jsonb_build_object(
        'success', TRUE,
        'message', 'Feedback recorded',
        'feedback', jsonb_build_object(
            'id', fb.id,
            'insight_id', coalesce(fb.insight_id::text, fb.client_ref),
            'linked', fb.insight_id IS NOT NULL,
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
'POST /api/insights/feedback. args insight_id (any string <= 200: the UUID of one of the caller''s insights is '
'linked, anything else is kept as the client''s reference; core.insight_reference), helpful (boolean), comment? '
'(<= 2000). Stores or replaces the caller''s answer for that insight or reference; {success, message, feedback: '
'{id, insight_id, linked, helpful, comment, created_at, updated_at}}. NV400 Missing required fields: insight_id, '
'helpful / invalid field.';
