-- GET /api/checkins/today in V1 mode: the same read as V2 mode's (core.checkin_today, daily_checkins).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_today_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    RETURN core.checkin_today(core.require_user());
END
$$;

ALTER FUNCTION api.v1_today_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_today_checkin(jsonb) IS
'GET /api/checkins/today in V1 mode: as api.today_checkin. {success, hasCheckedIn, checkin (item or null), date} '
'for the caller''s today (core.user_today), from daily_checkins. args unused.';
