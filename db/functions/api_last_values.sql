-- GET /api/checkins/last-values.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.last_values(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    today date := core.user_today(uid);
    last_date date;
    vals jsonb;
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    SELECT
        c.date_submitted,
        core.checkin_row(c.id, c.user_id, c.date_submitted, c.created_at, c.updated_at, c.checkin_type, c.fields)
    INTO last_date, vals
    FROM public.daily_checkins_legacy AS c
    WHERE c.user_id = uid
    ORDER BY c.date_submitted DESC, c.created_at DESC, c.id
    LIMIT 1;
    RETURN core.last_values_body(vals, last_date, today);
END
$$;

ALTER FUNCTION api.last_values(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.last_values(jsonb) IS
'GET /api/checkins/last-values: {success, hasValues, last_values, lastValues, message}: the latest '
'check-in''s row + last_checkin_date + days_since_last_checkin (local days, never negative); nulls when none.';
