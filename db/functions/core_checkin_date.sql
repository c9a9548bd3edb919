-- The date_submitted of a V1 check-in: a given date within bounds, or the user's today.

CREATE OR REPLACE FUNCTION core.checkin_date(value jsonb, p_user_id uuid, p_now timestamptz DEFAULT now())
RETURNS date
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    d date;
    latest date;
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN core.user_today(p_user_id, p_now);
    END IF;
    d := core.parse_date(value #>> '{}', 'date_submitted');
    -- "Not later than tomorrow in any timezone": the latest today on Earth is at UTC+14.
    latest := core.latest_calendar_date(p_now) + 1;
    IF d > latest THEN
        PERFORM core.fail(400, 'date_submitted must not be later than tomorrow', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'date_submitted'));
    END IF;
    IF d < DATE '2000-01-01' THEN
        PERFORM core.fail(400, 'date_submitted must not be before 2000-01-01', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'date_submitted'));
    END IF;
    RETURN d;
END
$$;

COMMENT ON FUNCTION core.checkin_date(jsonb, uuid, timestamptz) IS
'The date_submitted of a check-in: the given YYYY-MM-DD verbatim (2000-01-01 .. tomorrow at UTC+14, else '
'NV400 naming date_submitted), or when absent/null the user''s today at p_now (core.user_today; default now()).';
