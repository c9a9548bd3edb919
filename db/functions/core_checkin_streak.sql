-- The check-in streak: consecutive local days with a live check-in, ending today or yesterday.

CREATE OR REPLACE FUNCTION core.checkin_streak(p_user_id uuid, p_today date)
RETURNS integer
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- Dates are unique per user, so in descending order a date equals top - (rn - 1) exactly while the run
    -- of consecutive days from the latest one lasts, and is smaller ever after.
    SELECT count(*)::integer
    FROM (
        SELECT
            d.date_submitted,
            row_number() OVER (ORDER BY d.date_submitted DESC) AS rn,
            max(d.date_submitted) OVER () AS top
        FROM public.daily_checkins AS d
        WHERE d.user_id = p_user_id AND d.date_submitted <= p_today
    ) AS s
    WHERE s.top >= p_today - 1 AND s.date_submitted = s.top - (s.rn - 1)::integer
$$;

COMMENT ON FUNCTION core.checkin_streak(uuid, date) IS
'Number of consecutive local days with a live check-in ending on p_today or p_today - 1 (0 when neither has '
'one). Check-ins dated after p_today are ignored. Reads daily_checkins by its (user_id, date_submitted) index.';
