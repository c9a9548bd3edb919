-- GET /api/checkins/today in both modes (api.today_checkin, api.v1_today_checkin): the check-in of the user's today
-- in the read model, daily_checkins.

CREATE OR REPLACE FUNCTION core.checkin_today(p_user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    today date := core.user_today(p_user_id);
    item jsonb;
BEGIN
    SELECT core.legacy_item(d) INTO item
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id AND d.date_submitted = today;
    RETURN jsonb_build_object(
        'success', TRUE,
        'hasCheckedIn', item IS NOT NULL,
        'checkin', item,
        'date', to_char(today, 'YYYY-MM-DD')
    );
END
$$;

COMMENT ON FUNCTION core.checkin_today(uuid) IS
'{success, hasCheckedIn, checkin (the item {id, fields, ...row} or null), date} of GET /api/checkins/today for the '
'user''s today (core.user_today), from daily_checkins.';
