-- GET /api/checkins/today in both modes (api.today_checkin, api.v1_today_checkin): the body it answers; only
-- where the row comes from differs.

CREATE OR REPLACE FUNCTION core.checkin_today_body(p_item jsonb, p_today date)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'success', TRUE,
        'hasCheckedIn', p_item IS NOT NULL,
        'checkin', p_item,
        'date', to_char(p_today, 'YYYY-MM-DD')
    )
$$;

COMMENT ON FUNCTION core.checkin_today_body(jsonb, date) IS
'{success, hasCheckedIn, checkin (the item or null), date} of GET /api/checkins/today for local day p_today.';
