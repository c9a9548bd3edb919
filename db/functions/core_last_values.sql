-- GET /api/checkins/last-values in both modes (api.last_values, api.v1_last_values): the latest check-in of the
-- read model, daily_checkins.

CREATE OR REPLACE FUNCTION core.last_values(p_user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    today date := core.user_today(p_user_id);
    last_date date;
    vals jsonb;
BEGIN
    -- Dates are unique per user: the index gives the latest check-in.
    SELECT
        d.date_submitted,
        core.checkin_row(d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type,
            core.legacy_fields(d))
        || jsonb_build_object(
            'last_checkin_date', to_char(d.date_submitted, 'YYYY-MM-DD'),
            'days_since_last_checkin', greatest(today - d.date_submitted, 0)
        )
    INTO last_date, vals
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id
    ORDER BY d.date_submitted DESC
    LIMIT 1;
    IF last_date IS NULL THEN
        RETURN jsonb_build_object(
            'success', TRUE, 'hasValues', FALSE, 'last_values', NULL, 'lastValues', NULL,
            'message', 'No previous check-ins found'
        );
    END IF;
    RETURN jsonb_build_object(
        'success', TRUE, 'hasValues', TRUE, 'last_values', vals, 'lastValues', vals,
        'message', 'Last check-in values retrieved'
    );
END
$$;

COMMENT ON FUNCTION core.last_values(uuid) IS
'{success, hasValues, last_values, lastValues, message} of GET /api/checkins/last-values: the user''s latest '
'check-in row (daily_checkins, core.checkin_row) + last_checkin_date + days_since_last_checkin (local days from '
'core.user_today, never negative); hasValues false and nulls when there is none. Both spellings: compat.';
