-- The latest calendar date on Earth at an instant (the date at UTC+14): no user's today is after it.

CREATE OR REPLACE FUNCTION core.latest_calendar_date(p_at timestamptz DEFAULT now())
RETURNS date
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- The easternmost time zone is UTC+14 (Pacific/Kiritimati): the latest date a calendar shows at p_at.
    SELECT ((p_at AT TIME ZONE 'UTC') + INTERVAL '14 hours')::date
$$;

COMMENT ON FUNCTION core.latest_calendar_date(timestamptz) IS
'The latest calendar date anywhere on Earth at p_at (default now): the date at UTC+14. A date after it is '
'in everybody''s future.';
