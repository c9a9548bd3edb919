-- GET /api/insights?limit=N: the caller's stored insights, newest first.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.list_insights(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    v_limit integer;
    items jsonb;
BEGIN
    v_limit := coalesce(
        (core.check_value('limit', coalesce(args, '{}'::jsonb) -> 'limit', 'integer', 1, 100) #>> '{}')::integer, 20
    );
    SELECT coalesce(jsonb_agg(core.insight_json(t.i) ORDER BY (t.i).created_at DESC, (t.i).id), '[]'::jsonb)
    INTO items
    FROM (
        SELECT i
        FROM public.insights AS i
        WHERE i.user_id = uid
        ORDER BY i.created_at DESC, i.id
        LIMIT v_limit
    ) AS t;
    RETURN jsonb_build_object('success', TRUE, 'insights', items, 'count', jsonb_array_length(items));
END
$$;

ALTER FUNCTION api.list_insights(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.list_insights(jsonb) IS
'GET /api/insights. args limit 1-100 (default 20). {success, insights: [{id, type, category, title, message, icon, '
'confidence, priority, date, created_at}] newest first, count}. NV400 bad limit; NV401/NV404.';
