-- GET /api/checkins?limit=N: the caller's live check-ins, newest date_submitted first.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.list_checkins(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    lim integer;
    items jsonb;
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    lim := core.checkin_list_limit(args);
    SELECT coalesce(jsonb_agg(x.item ORDER BY x.date_submitted DESC, x.created_at DESC, x.id), '[]'::jsonb)
    INTO items
    FROM (
        SELECT
            c.id, c.date_submitted, c.created_at,
            core.checkin_item(c.id, c.user_id, c.date_submitted, c.created_at, c.updated_at, c.checkin_type,
                c.fields) AS item
        FROM public.daily_checkins_legacy AS c
        WHERE c.user_id = uid
        ORDER BY c.date_submitted DESC, c.created_at DESC, c.id
        LIMIT lim
    ) AS x;
    RETURN core.checkin_list_body(items);
END
$$;

ALTER FUNCTION api.list_checkins(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.list_checkins(jsonb) IS
'GET /api/checkins: args.limit (1-100, default 30; integer strings accepted). {success, records, checkins, '
'count}: records and checkins are the same item list, newest date_submitted first. NV400 bad limit.';
