-- GET /api/checkins/today in V1 mode.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_today_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    today date := core.user_today(uid);
    item jsonb;
BEGIN
    SELECT core.legacy_item(d) INTO item
    FROM public.daily_checkins AS d
    WHERE d.user_id = uid AND d.date_submitted = today;
    RETURN core.checkin_today_body(item, today);
END
$$;

ALTER FUNCTION api.v1_today_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_today_checkin(jsonb) IS
'GET /api/checkins/today in V1 mode: {success, hasCheckedIn, checkin (item or null), date} for the caller''s '
'today (core.user_today), from daily_checkins. args unused.';
