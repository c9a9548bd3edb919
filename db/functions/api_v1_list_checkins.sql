-- GET /api/checkins?limit=N in V1 mode: the caller's rows of the legacy table, newest date_submitted first.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_list_checkins(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    lim integer;
    items jsonb;
BEGIN
    lim := core.checkin_list_limit(args);
    SELECT coalesce(jsonb_agg(core.legacy_item(x) ORDER BY x.date_submitted DESC, x.created_at DESC, x.id),
        '[]'::jsonb)
    INTO items
    FROM (
        SELECT d.*
        FROM public.daily_checkins AS d
        WHERE d.user_id = uid
        ORDER BY d.date_submitted DESC, d.created_at DESC, d.id
        LIMIT lim
    ) AS x;
    RETURN core.checkin_list_body(items);
END
$$;

ALTER FUNCTION api.v1_list_checkins(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_list_checkins(jsonb) IS
'GET /api/checkins in V1 mode: as api.list_checkins, from daily_checkins. {success, records, checkins, count}, '
'newest date_submitted first. NV400 bad limit.';
