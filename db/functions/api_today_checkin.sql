-- GET /api/checkins/today.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.today_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    today date := core.user_today(uid);
    item jsonb;
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    SELECT core.checkin_item(c.id, c.user_id, c.date_submitted, c.created_at, c.updated_at, c.checkin_type, c.fields)
    INTO item
    FROM public.daily_checkins_legacy AS c
    WHERE c.user_id = uid AND c.date_submitted = today;
    RETURN core.checkin_today_body(item, today);
END
$$;

ALTER FUNCTION api.today_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.today_checkin(jsonb) IS
'GET /api/checkins/today: {success, hasCheckedIn, checkin (item or null), date} for the caller''s '
'today (core.user_today: never before their latest check-in date). args unused.';
