-- depends: functions/core_identity.sql
-- When a V1 check-in's events happened: the instant of writing for today's, noon local time for another day's.

CREATE OR REPLACE FUNCTION core.checkin_occurred_at(p_user_id uuid, p_date date, p_now timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN p_date = core.local_date(p_user_id, p_now) THEN p_now
        ELSE (p_date + TIME '12:00') AT TIME ZONE core.user_timezone(p_user_id)
    END
$$;

COMMENT ON FUNCTION core.checkin_occurred_at(uuid, date, timestamptz) IS
'occurred_at of a check-in''s events: p_now when p_date is the user''s local today, else noon local time '
'of p_date (in the profile timezone).';
