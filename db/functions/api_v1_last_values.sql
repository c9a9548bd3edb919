-- GET /api/checkins/last-values in V1 mode.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_last_values(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    today date := core.user_today(uid);
    last_date date;
    vals jsonb;
BEGIN
    SELECT
        d.date_submitted,
        core.checkin_row(d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type,
            core.legacy_fields(d))
    INTO last_date, vals
    FROM public.daily_checkins AS d
    WHERE d.user_id = uid
    ORDER BY d.date_submitted DESC, d.created_at DESC, d.id
    LIMIT 1;
    RETURN core.last_values_body(vals, last_date, today);
END
$$;

ALTER FUNCTION api.v1_last_values(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_last_values(jsonb) IS
'GET /api/checkins/last-values in V1 mode: as api.last_values, from daily_checkins. {success, hasValues, '
'last_values, lastValues, message}.';
