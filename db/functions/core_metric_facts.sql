-- GET /api/users/metrics: the facts of a user on a local day that the metrics are built from. docs/metrics.md
-- defines every figure.

CREATE OR REPLACE FUNCTION core.metric_facts(p_user_id uuid, p_today date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    w30 jsonb;
    f jsonb;
    v_rate numeric;
    v_prev_rate numeric;
    v_coping jsonb;
    v_effective text;
    v_phq4 integer[];
    v_total integer;
    v_last30 integer;
    v_signup date;
    v_tracking integer;
    v_streak integer;
    v_med_total integer;
BEGIN
    -- The last 30 local days of check-ins, read once (one row per day): every windowed figure comes from it.
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'd', l.date_submitted,
        'mood', core.mood_score(l.fields ->> 'mood_today'),
        'anxiety', CASE WHEN jsonb_typeof(l.fields -> 'anxiety_level') = 'number' THEN l.fields -> 'anxiety_level' END,
        'med', coalesce(l.fields ->> 'medication_taken', 'not tracked'),
        'missed', CASE WHEN jsonb_typeof(l.fields -> 'missed_doses') = 'number' THEN l.fields -> 'missed_doses' END,
        'partner', CASE WHEN jsonb_typeof(l.fields -> 'partner_involved_today') = 'boolean'
            THEN l.fields -> 'partner_involved_today' END,
        'coping', l.fields -> 'coping_strategies_used'
    )), '[]'::jsonb)
    INTO w30
    FROM core.checkin_window(p_user_id, p_today - 29, p_today) AS l;

    SELECT jsonb_build_object(
        'medication_tracked_7', count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med IN ('yes', 'no', 'partial')),
        'medication_taken_7', count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med = 'yes'),
        'medication_partial_7', count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med = 'partial'),
        'medication_missed_7', count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med = 'no'),
        'missed_doses_week', coalesce(sum(r.missed) FILTER (WHERE r.d >= p_today - 6), 0),
        'average_mood', round(avg(r.mood) FILTER (WHERE r.d >= p_today - 6), 1),
        'anxiety_average', round(avg(r.anxiety) FILTER (WHERE r.d >= p_today - 6), 1),
        'partner_rate', round(100.0 * count(*) FILTER (WHERE r.partner) / nullif(count(r.partner), 0))::integer
    ),
    round(100.0 * (
        count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med = 'yes')
        + 0.5 * count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med = 'partial')
    ) / nullif(count(*) FILTER (WHERE r.d >= p_today - 6 AND r.med IN ('yes', 'no', 'partial')), 0), 1),
    round(100.0 * (
        count(*) FILTER (WHERE r.d < p_today - 6 AND r.d >= p_today - 13 AND r.med = 'yes')
        + 0.5 * count(*) FILTER (WHERE r.d < p_today - 6 AND r.d >= p_today - 13 AND r.med = 'partial')
    ) / nullif(count(*) FILTER (
        WHERE r.d < p_today - 6 AND r.d >= p_today - 13 AND r.med IN ('yes', 'no', 'partial')
    ), 0), 1)
    INTO f, v_rate, v_prev_rate
    FROM jsonb_to_recordset(w30) AS r (
        d date, mood numeric, anxiety integer, med text, missed integer, partner boolean, coping jsonb
    );

    -- Coping strategies of the 30 days: trimmed, inner whitespace (newlines too) collapsed, grouped
    -- case-insensitively, shown in their latest spelling; a strategy counts once per day.
    WITH items AS MATERIALIZED (
        SELECT
            r.d,
            r.mood,
            x.n,
            core.squish(x.item #>> '{}') AS name
        FROM jsonb_to_recordset(w30) AS r (d date, mood numeric, coping jsonb)
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(r.coping) = 'array' THEN r.coping ELSE '[]'::jsonb END
        ) WITH ORDINALITY AS x (item, n)
        WHERE jsonb_typeof(x.item) = 'string'
    ),

    used AS (
        SELECT DISTINCT ON (i.d, lower(i.name))
            i.d,
            i.mood,
            i.name
        FROM items AS i
        WHERE i.name IS NOT NULL
        ORDER BY i.d, lower(i.name), i.n
    ),

    per AS (
        SELECT
            lower(u.name) AS k,
            (array_agg(u.name ORDER BY u.d DESC))[1] AS name,
            count(*) AS days,
            max(u.d) AS last_used,
            avg(u.mood) AS mean_mood
        FROM used AS u
        GROUP BY lower(u.name)
    )

    SELECT
        coalesce(jsonb_agg(p.name ORDER BY p.days DESC, p.last_used DESC, p.k), '[]'::jsonb),
        (array_agg(p.name ORDER BY p.mean_mood DESC, p.days DESC, p.k) FILTER (WHERE p.mean_mood IS NOT NULL))[1]
    INTO v_coping, v_effective
    FROM per AS p;

    -- PHQ-4: the two latest check-ins (by date) that answered it. Their typed columns say which did (a column holds
    -- a number the fields hold: daily_checkins_legacy), so the scan stops at the second one without reading the
    -- fields of every check-in in between.
    SELECT array_agg(t.total ORDER BY t.date_submitted DESC)
    INTO v_phq4
    FROM (
        SELECT d.date_submitted, core.phq4_total(core.legacy_fields(d)) AS total
        FROM public.daily_checkins AS d
        WHERE
            d.user_id = p_user_id AND d.date_submitted <= p_today
            AND num_nonnulls(
                d.phq4_feeling_nervous, d.phq4_stop_worrying, d.phq4_little_interest, d.phq4_feeling_down, d.phq4_score
            ) > 0
        ORDER BY d.date_submitted DESC
        LIMIT 2
    ) AS t;

    -- Check-ins that answered the medication question (a medication event with a status in the log), and the totals.
    SELECT
        count(*)::integer,
        (count(*) FILTER (WHERE d.date_submitted BETWEEN p_today - 29 AND p_today))::integer,
        (count(*) FILTER (WHERE d.medication_taken IN ('yes', 'no', 'partial')))::integer
    INTO v_total, v_last30, v_med_total
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id;

    -- The sign-up day in the calendar p_today is in. A today later than the profile's own local date is a device's
    -- east of the profile's zone (core.user_today), so many days ahead of the profile's calendar: the sign-up
    -- day is moved by as many, and whole days since sign-up stay the days that have passed, wherever the device is
    -- (else such a user would count one day more than has passed: one check-in on the sign-up day would be 50 %).
    SELECT core.local_date(p_user_id, u.created_at) + greatest(0, p_today - core.local_date(p_user_id))
    INTO v_signup
    FROM public.users AS u
    WHERE u.id = p_user_id;
    v_tracking := greatest(1, least(30, p_today - coalesce(v_signup, p_today) + 1));
    v_streak := core.checkin_streak(p_user_id, p_today);

    RETURN f || jsonb_build_object(
        'date', to_char(p_today, 'YYYY-MM-DD'),
        'adherence_rate', v_rate,
        'adherence_rate_previous', v_prev_rate,
        'adherence_trend', CASE
            WHEN v_rate IS NULL OR v_prev_rate IS NULL THEN NULL
            WHEN v_rate - v_prev_rate > 5 THEN 'improving'
            WHEN v_rate - v_prev_rate < -5 THEN 'declining'
            ELSE 'stable'
        END,
        'total_medication_checkins', v_med_total,
        'current_phq4', v_phq4[1],
        'previous_phq4', v_phq4[2],
        'phq4_trend', CASE
            WHEN v_phq4[2] IS NULL THEN NULL
            WHEN v_phq4[1] < v_phq4[2] THEN 'improving'
            WHEN v_phq4[1] > v_phq4[2] THEN 'worsening'
            ELSE 'stable'
        END,
        'streak', v_streak,
        'total_checkins', v_total,
        'checkins_last_30', v_last30,
        'tracking_days', v_tracking,
        'checkin_rate_30', least(100, round(100.0 * v_last30 / v_tracking))::integer,
        -- The web app's "Daily Check-in Rate" (its insightEngagementRate): all check-ins over the whole local
        -- days since the sign-up date (at least 1), as a percent capped at 100.
        'days_since_signup', p_today - coalesce(v_signup, p_today),
        'daily_checkin_rate', least(100, round(100.0 * v_total / greatest(1, p_today - coalesce(v_signup, p_today))))
        ::integer,
        'engagement_rate', core.insight_engagement_rate(p_user_id, p_today - 29, p_today),
        'coping_strategies', v_coping,
        'coping_strategy_count', jsonb_array_length(v_coping),
        'most_effective_strategy', v_effective
    );
END
$$;

COMMENT ON FUNCTION core.metric_facts(uuid, date) IS
'The facts behind GET /api/users/metrics for local day p_today (docs/metrics.md): 7-day adherence and its '
'previous week, missed doses, mood/anxiety means, PHQ-4 latest/previous/trend, streak, totals, check-in rates '
'(30 days; daily since sign-up), insight engagement rate, coping strategies (30 days), partner rate. Null when '
'there is no data. Reads only the user''s rows through indexes: the check-ins from daily_checkins.';
