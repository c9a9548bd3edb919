-- GET /api/checkins/last-values.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.last_values(args jsonb DEFAULT '{}'::jsonb)
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

ALTER FUNCTION api.last_values(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.last_values(jsonb) IS
'GET /api/checkins/last-values: {success, hasValues, last_values, lastValues, message}: the latest '
'check-in''s row + last_checkin_date + days_since_last_checkin (local days, never negative); nulls when none. '
'From daily_checkins; read-only. args unused.';
