-- The body of GET /api/checkins/last-values, the same in both modes (api.last_values, api.v1_last_values).

CREATE OR REPLACE FUNCTION core.last_values_body(p_row jsonb, p_last date, p_today date)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN p_row IS NULL THEN jsonb_build_object(
            'success', TRUE, 'hasValues', FALSE, 'last_values', NULL, 'lastValues', NULL,
            'message', 'No previous check-ins found'
        )
        ELSE jsonb_build_object(
            'success', TRUE, 'hasValues', TRUE, 'last_values', v.vals, 'lastValues', v.vals,
            'message', 'Last check-in values retrieved'
        )
    END
    FROM (
        SELECT p_row || jsonb_build_object(
            'last_checkin_date', to_char(p_last, 'YYYY-MM-DD'),
            'days_since_last_checkin', greatest(p_today - p_last, 0)
        ) AS vals
    ) AS v
$$;

COMMENT ON FUNCTION core.last_values_body(jsonb, date, date) IS
'{success, hasValues, last_values, lastValues, message} for the latest check-in row p_row (NULL: none) dated '
'p_last, seen on the caller''s local day p_today: the row + last_checkin_date + days_since_last_checkin (>= 0).';
