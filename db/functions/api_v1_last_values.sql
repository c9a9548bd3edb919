-- GET /api/checkins/last-values in V1 mode: the same read as V2 mode's (core.last_values, daily_checkins).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_last_values(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    RETURN core.last_values(core.require_user());
END
$$;

ALTER FUNCTION api.v1_last_values(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_last_values(jsonb) IS
'GET /api/checkins/last-values in V1 mode: as api.last_values, from daily_checkins. {success, hasValues, '
'last_values, lastValues, message}.';
