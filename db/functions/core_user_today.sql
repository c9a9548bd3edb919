-- depends: functions/core_identity.sql, functions/core_latest_calendar_date.sql
-- A user's "today", the one day every window ends on (docs/design-v2.md, "A user's today").
--
-- The web app never sends a time zone, so most profiles keep the default America/Los_Angeles, but it sends
-- date_submitted from the device's calendar. A device east of the profile's zone checks in for a date that
-- is still tomorrow in the profile's zone; if every window ended on the profile's local today, that person
-- would see no check-in for today, no streak and no data, right after checking in. So a user's own latest
-- check-in date is never in their future: today is the later of the profile's local date and that date,
-- as long as it is a date some calendar on Earth shows now.

CREATE OR REPLACE FUNCTION core.user_today(p_user_id uuid, p_at timestamptz DEFAULT now())
RETURNS date
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    -- daily_checkins holds every live check-in in both modes (V2 writes it too, docs/v1-v2-sync.md), so the
    -- V1-mode functions use the same rule without the event log. max() reads its (user_id, date) index.
    SELECT greatest(
        core.local_date(p_user_id, p_at),
        (
            SELECT max(d.date_submitted)
            FROM public.daily_checkins AS d
            WHERE d.user_id = p_user_id AND d.date_submitted <= core.latest_calendar_date(p_at)
        )
    )
$$;

COMMENT ON FUNCTION core.user_today(uuid, timestamptz) IS
'The user''s today at p_at (default now): the later of their local date in the profile timezone and the '
'latest date_submitted of their live check-ins that is not after core.latest_calendar_date(p_at). Every '
'window (today, streak, last 7/30 days, metrics, insights, questions, daily summary, analytics, the default '
'date_submitted) ends on it, so a device east of the profile''s zone keeps its own today.';
