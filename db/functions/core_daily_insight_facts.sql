-- depends: functions/core_checkin_window.sql, functions/core_mood_score.sql, functions/core_phq4_total.sql
-- The facts the daily insight rules (public.insight_rules, rule_set 'daily') are evaluated over.

CREATE OR REPLACE FUNCTION core.daily_insight_facts(p_user_id uuid, p_today date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    WITH c AS (
        SELECT
            l.date_submitted AS d,
            core.mood_score(l.fields ->> 'mood_today') AS mood_score,
            CASE WHEN jsonb_typeof(l.fields -> 'anxiety_level') = 'number'
                THEN (l.fields ->> 'anxiety_level')::numeric::integer END AS anxiety,
            coalesce(l.fields ->> 'medication_taken', 'not tracked') AS med,
            CASE WHEN jsonb_typeof(l.fields -> 'missed_doses') = 'number'
                THEN (l.fields ->> 'missed_doses')::numeric::integer END AS missed,
            core.phq4_total(l.fields) AS phq4
        FROM core.checkin_window(p_user_id, p_today - 6, p_today) AS l
    ),

    s AS (
        SELECT
            c.*,
            CASE WHEN c.mood_score IS NOT NULL THEN count(c.mood_score) OVER (ORDER BY c.d) END AS srn,
            count(c.mood_score) OVER () AS n_scored
        FROM c
    ),

    a AS (
        SELECT
            count(*) AS checkins_analyzed,
            max(s.d) AS latest_date,
            (array_agg(s.mood_score ORDER BY s.d DESC))[1] AS latest_mood_score,
            (array_agg(s.anxiety ORDER BY s.d DESC))[1] AS latest_anxiety,
            (array_agg(s.phq4 ORDER BY s.d DESC) FILTER (WHERE s.phq4 IS NOT NULL))[1] AS latest_phq4_total,
            count(s.mood_score) AS mood_scored_days,
            avg(s.mood_score) FILTER (WHERE s.srn <= s.n_scored / 2) AS mood_earlier,
            avg(s.mood_score) FILTER (WHERE s.srn > s.n_scored - s.n_scored / 2) AS mood_later,
            count(*) FILTER (WHERE s.med IN ('yes', 'no', 'partial')) AS medication_tracked_days,
            count(*) FILTER (WHERE s.med = 'yes') AS medication_taken_days,
            count(*) FILTER (WHERE s.med = 'no') AS medication_missed_days,
            count(*) FILTER (WHERE s.med = 'partial') AS medication_partial_days,
            coalesce(sum(s.missed), 0) AS missed_doses
        FROM s
    )

    SELECT jsonb_build_object(
        'checkins_analyzed', a.checkins_analyzed,
        'window_start', to_char(p_today - 6, 'YYYY-MM-DD'),
        'window_end', to_char(p_today, 'YYYY-MM-DD'),
        'latest_date', to_char(a.latest_date, 'YYYY-MM-DD'),
        'latest_mood_score', a.latest_mood_score,
        'latest_anxiety', a.latest_anxiety,
        'latest_phq4_total', a.latest_phq4_total,
        'mood_scored_days', a.mood_scored_days,
        'mood_earlier', round(a.mood_earlier, 1),
        'mood_later', round(a.mood_later, 1),
        'mood_change', round(a.mood_later - a.mood_earlier, 2),
        'medication_tracked_days', a.medication_tracked_days,
        'medication_taken_days', a.medication_taken_days,
        'medication_missed_days', a.medication_missed_days,
        'medication_partial_days', a.medication_partial_days,
        'missed_doses', a.missed_doses
    )
    FROM a
$$;

COMMENT ON FUNCTION core.daily_insight_facts(uuid, date) IS
'Facts of the 7 local days p_today - 6 .. p_today from the live check-ins (core.checkin_window, one per day): '
'checkins_analyzed (days), window, latest_date and that day''s mood score and anxiety, the latest PHQ-4 total of '
'the window, mood_scored_days, mood_earlier/mood_later (mean score of the earlier/later half of the scored days; '
'the middle one of an odd count in neither), mood_change, medication answer counts (tracked = yes/no/partial), '
'missed_doses (sum).';
