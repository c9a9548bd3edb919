-- A user's today (core.user_today, docs/design-v2.md): never before their own latest check-in date, and the
-- one day every window ends on. The server's clock cannot be moved, so the tests choose time zones that make
-- the outcome certain at any instant: a profile at UTC-12 and a device at UTC+14 are 26 hours apart, so the
-- device's date is always 1 or 2 days after the profile's.

-- A complete profile (the insight gate open) in time zone p_tz, named in the claims; returns the id.
CREATE OR REPLACE FUNCTION tests.ut_user(p_email text, p_tz text)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user(p_email, p_tz);
BEGIN
    UPDATE public.user_profiles
    SET nickname = 'Ann', primary_need = 'emotional_support', cycle_stage = 'stimulation', baseline_completed = TRUE
    WHERE user_id = uid;
    RETURN uid;
END
$$;

-- The date a device in time zone p_tz shows now.
CREATE OR REPLACE FUNCTION tests.ut_device_date(p_tz text)
RETURNS date
LANGUAGE sql
AS $$
    SELECT (now() AT TIME ZONE p_tz)::date
$$;

CREATE OR REPLACE FUNCTION tests.test_latest_calendar_date()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_eq(core.latest_calendar_date(TIMESTAMPTZ '2026-06-01 09:59:59Z'), DATE '2026-06-01');
    PERFORM tests.assert_eq(core.latest_calendar_date(TIMESTAMPTZ '2026-06-01 10:00Z'), DATE '2026-06-02',
        'midnight in Kiritimati');
    PERFORM tests.assert_eq(core.latest_calendar_date(), tests.ut_device_date('Pacific/Kiritimati'));
END
$$;

-- A device east of the profile's zone checks in for its own today: that is the user's today in every window.
CREATE OR REPLACE FUNCTION tests.test_device_ahead_of_the_profile_keeps_its_today()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ut_user('ann@example.com', 'Etc/GMT+12');
    profile_today date := core.local_date(uid);
    device date := tests.ut_device_date('Pacific/Kiritimati');
    cid uuid;
    r jsonb;
BEGIN
    PERFORM tests.assert_true(device - profile_today BETWEEN 1 AND 2, 'the device is 1 or 2 days ahead');
    PERFORM tests.assert_eq(core.user_today(uid), profile_today, 'no check-in yet: the profile''s date');

    cid := (api.create_checkin(jsonb_build_object('mood_today', 'anxious', 'confidence_today', 3,
        'anxiety_level', 9, 'medication_taken', 'yes', 'date_submitted', device::text)) #>> '{checkin,id}')::uuid;
    PERFORM tests.assert_eq(core.user_today(uid), device, 'the latest check-in date is today');

    r := api.today_checkin();
    PERFORM tests.assert_eq(array[r ->> 'hasCheckedIn', r ->> 'date', r #>> '{checkin,id}'],
        array['true', device::text, cid::text], 'GET /api/checkins/today');
    r := api.v1_today_checkin();
    PERFORM tests.assert_eq(array[r ->> 'hasCheckedIn', r ->> 'date'], array['true', device::text], 'V1 mode too');
    r := api.user_metrics() -> 'metrics';
    PERFORM tests.assert_eq(array[r ->> 'checkInStreak', r ->> 'anxietyAverage', r ->> 'averageMoodScore',
        r ->> 'medicationAdherenceRate', r ->> 'totalCheckIns'], array['1', '9.0', '3.0', '100.0', '1'], 'metrics');
    -- signed up a moment ago: the sign-up day is the device's today too (no day has passed, one check-in of one)
    r := core.metric_facts(uid, core.user_today(uid));
    PERFORM tests.assert_eq(array[r ->> 'days_since_signup', r ->> 'tracking_days', r ->> 'checkin_rate_30',
        r ->> 'daily_checkin_rate'], array['0', '1', '100', '100'], 'days since sign-up in the device''s calendar');
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,insightEngagementRate}', '100');
    r := api.daily_insight();
    PERFORM tests.assert_eq(array[r #>> '{insight,type}', r #>> '{analysis_data,checkins_analyzed}',
        r #>> '{analysis_data,date_range}'], array['support_needed', '1', (device - 6) || ' to ' || device],
        'the daily insight');
    r := api.daily_summary() -> 'summary';
    PERFORM tests.assert_eq(array[r ->> 'date', r ->> 'check_in_completed', r #>> '{insights,0,type}'],
        array[device::text, 'true', 'support_needed'], 'the daily summary''s default date');
    r := api.analytics() -> 'analytics';
    PERFORM tests.assert_eq(array[r ->> 'end_date', r ->> 'checkin_count'], array[device::text, '1'], 'analytics');
    PERFORM tests.assert_eq(api.checkin_questions() #>> '{metadata,date}', device::text, 'the questions');
    PERFORM tests.assert_eq(api.micro_insight() #>> '{insight,message}', 'Thanks for checking in today, Ann.');
    r := api.last_values();
    PERFORM tests.assert_eq(r #>> '{last_values,days_since_last_checkin}', '0', 'last-values');
    PERFORM tests.assert_eq(api.engagement() #>> '{engagement,summary,period,end_date}', device::text);
    PERFORM tests.assert_eq(api.engagement() #>> '{engagement,summary,checkins}', '1');
    PERFORM tests.assert_eq(api.timeline() ->> 'count', '2', 'the timeline''s default window');
    -- a check-in without a date is for that today, which is taken
    PERFORM tests.assert_raises($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5}')$q$,
        'NV409', 'You have already submitted a check-in for today.%');
    -- the profile's own today is yesterday now: a check-in for it continues the streak
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'ok', 'confidence_today', 5,
        'date_submitted', (device - 1)::text));
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,checkInStreak}', '2');

    -- deleting the device's check-in gives the profile's date back (if it is the later one)
    PERFORM api.delete_checkin(jsonb_build_object('id', cid));
    PERFORM tests.assert_eq(core.user_today(uid), greatest(profile_today, device - 1));
    PERFORM tests.assert_eq(api.today_checkin() ->> 'date', greatest(profile_today, device - 1)::text);
END
$$;

-- Not every date a client may send is a today: the limit is tomorrow at UTC+14, but only a date some calendar
-- shows now (core.latest_calendar_date) can become the user's today.
CREATE OR REPLACE FUNCTION tests.test_a_date_in_everybodys_future_is_not_today()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ut_user('ann@example.com', 'Etc/GMT+12');
    latest date := core.latest_calendar_date();
BEGIN
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'ok', 'confidence_today', 5,
        'date_submitted', (latest + 1)::text));
    PERFORM tests.assert_eq(core.user_today(uid), core.local_date(uid), 'still the profile''s date');
    PERFORM tests.assert_eq(api.today_checkin() ->> 'hasCheckedIn', 'false');
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,checkInStreak}', '0', 'outside every window');
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,totalCheckIns}', '1', 'but counted in the totals');
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'ok', 'confidence_today', 5,
        'date_submitted', latest::text));
    PERFORM tests.assert_eq(core.user_today(uid), latest, 'the latest date on Earth is');
END
$$;

-- A device west of the profile's zone checks in for its own date, which is the profile's yesterday or today:
-- today stays the profile's, and the check-in counts in the streak, the 7 days and the insight.
CREATE OR REPLACE FUNCTION tests.test_device_behind_the_profile()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.ut_user('ann@example.com', 'America/Los_Angeles');
    profile_today date := core.local_date(uid);
    device date := tests.ut_device_date('Pacific/Pago_Pago');
    r jsonb;
BEGIN
    PERFORM tests.assert_true(profile_today - device BETWEEN 0 AND 1, 'Pago Pago is 3 or 4 hours behind');
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'hopeful', 'confidence_today', 7,
        'anxiety_level', 4, 'date_submitted', device::text));
    PERFORM tests.assert_eq(core.user_today(uid), profile_today, 'never moved back');
    r := api.user_metrics() -> 'metrics';
    PERFORM tests.assert_eq(array[r ->> 'checkInStreak', r ->> 'anxietyAverage'], array['1', '4.0']);
    PERFORM tests.assert_eq(api.daily_insight() #>> '{analysis_data,checkins_analyzed}', '1');
    PERFORM tests.assert_eq(api.today_checkin() ->> 'hasCheckedIn', (device = profile_today)::text);
END
$$;

-- The rule reads daily_checkins, which both modes keep complete: the V1-mode functions apply it without the
-- event log, and another user's check-ins never move anyone's today.
CREATE OR REPLACE FUNCTION tests.test_user_today_in_v1_mode_and_per_user()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := tests.ut_user('ann@example.com', 'Etc/GMT+12');
    bob uuid := tests.ut_user('bob@example.com', 'Etc/GMT+12');
    device date := tests.ut_device_date('Pacific/Kiritimati');
    bob_today date := core.local_date(bob);
BEGIN
    PERFORM tests.as_user('ann@example.com');
    PERFORM api.v1_create_checkin(jsonb_build_object('mood_today', 'ok', 'confidence_today', 5,
        'date_submitted', device::text));
    PERFORM tests.assert_eq(api.v1_today_checkin() ->> 'hasCheckedIn', 'true', 'a V1-mode check-in');
    PERFORM tests.assert_eq(api.v1_last_values() #>> '{last_values,days_since_last_checkin}', '0');
    PERFORM tests.assert_eq(api.today_checkin() ->> 'date', device::text, 'read in V2 mode (imported) too');
    PERFORM tests.as_gateway(jsonb_build_object('email', 'bob@example.com'));
    PERFORM tests.assert_eq(api.today_checkin() ->> 'date', bob_today::text, 'Bob''s own today');
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,totalCheckIns}', '0');
END
$$;
