-- GET /api/checkins?limit=N: the caller's check-ins, newest date_submitted first, from their read model.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.list_checkins(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    RETURN core.checkin_list(core.require_user(), args);
END
$$;

ALTER FUNCTION api.list_checkins(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.list_checkins(jsonb) IS
'GET /api/checkins: args.limit (1-100, default 30; integer strings accepted). {success, records, checkins, '
'count}: the same check-ins in both lists, newest date_submitted first; a records item is {id, fields: row}, a '
'checkins item the row flat. Reads daily_checkins (core.checkin_list); read-only. NV400 bad limit.';
