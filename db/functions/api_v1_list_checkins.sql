-- GET /api/checkins?limit=N in V1 mode: the same read as V2 mode's (core.checkin_list), since both modes read the
-- check-ins' one read model, daily_checkins.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_list_checkins(args jsonb DEFAULT '{}'::jsonb)
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

ALTER FUNCTION api.v1_list_checkins(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_list_checkins(jsonb) IS
'GET /api/checkins in V1 mode: as api.list_checkins (core.checkin_list, from daily_checkins). {success, records, '
'checkins, count}, newest date_submitted first. NV400 bad limit.';
