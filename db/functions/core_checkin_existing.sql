-- The live check-in that holds a date, as the 409 CHECKIN_EXISTS body names it.

CREATE OR REPLACE FUNCTION core.checkin_existing(p_user_id uuid, p_date date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    existing jsonb;
BEGIN
    SELECT jsonb_build_object(
        'id', c.id,
        'mood_today', c.fields -> 'mood_today',
        'confidence_today', c.fields -> 'confidence_today',
        'date_submitted', to_char(c.date_submitted, 'YYYY-MM-DD')
    ) INTO existing
    FROM public.daily_checkins_legacy AS c
    WHERE c.user_id = p_user_id AND c.date_submitted = p_date;
    RETURN existing;
END
$$;

COMMENT ON FUNCTION core.checkin_existing(uuid, date) IS
'{id, mood_today, confidence_today, date_submitted} of the user''s live check-in on p_date, or NULL.';
