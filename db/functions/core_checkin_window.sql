-- depends: functions/core_legacy_fields.sql
-- The check-ins of a user in a range of local dates, from their read model (daily_checkins), by its unique
-- (user_id, date_submitted) index.

CREATE OR REPLACE FUNCTION core.checkin_window(p_user_id uuid, p_from date, p_to date)
RETURNS TABLE (id uuid, date_submitted date, fields jsonb)
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- core.legacy_fields only when a writer left "fields" NULL: the call costs more than the read.
    SELECT d.id, d.date_submitted, coalesce(d.fields, core.legacy_fields(d))
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id AND d.date_submitted BETWEEN p_from AND p_to
$$;

COMMENT ON FUNCTION core.checkin_window(uuid, date, date) IS
'The user''s check-ins dated p_from..p_to as (id, date_submitted, fields: core.legacy_fields), one per date, from '
'daily_checkins by one index range scan.';
