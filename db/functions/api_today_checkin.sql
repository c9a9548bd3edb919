-- GET /api/checkins/today.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.today_checkin(args jsonb DEFAULT '{}'::jsonb)
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

ALTER FUNCTION api.today_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.today_checkin(jsonb) IS
'GET /api/checkins/today: {success, hasCheckedIn, checkin (item or null), date} for the caller''s '
'today (core.user_today: never before their latest check-in date), from daily_checkins; read-only. args unused.';
