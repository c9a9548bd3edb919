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
            c.local_date,
            row_number() OVER (ORDER BY c.local_date DESC) AS rn,
            max(c.local_date) OVER () AS top
        FROM public.live_checkins AS c
        WHERE c.user_id = p_user_id AND c.local_date <= p_today
    ) AS s
    WHERE s.top >= p_today - 1 AND s.local_date = s.top - (s.rn - 1)::integer
$$;

COMMENT ON FUNCTION core.checkin_streak(uuid, date) IS
'Number of consecutive local days with a live check-in ending on p_today or p_today - 1 (0 when neither has '
'one). Check-ins dated after p_today are ignored. Reads live_checkins by its (user_id, local_date) index.';
