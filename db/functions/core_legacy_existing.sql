-- depends: functions/core_legacy_fields.sql
-- The legacy row that holds a date, as the 409 CHECKIN_EXISTS body of V1 mode names it.

CREATE OR REPLACE FUNCTION core.legacy_existing(p_user_id uuid, p_date date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'id', d.id,
        'mood_today', core.legacy_fields(d) -> 'mood_today',
        'confidence_today', core.legacy_fields(d) -> 'confidence_today',
        'date_submitted', to_char(d.date_submitted, 'YYYY-MM-DD')
    )
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id AND d.date_submitted = p_date
$$;

COMMENT ON FUNCTION core.legacy_existing(uuid, date) IS
'{id, mood_today, confidence_today, date_submitted} of the user''s daily_checkins row on p_date, or NULL.';
