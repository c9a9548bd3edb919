-- depends: views/user_daily_metrics.sql
-- Weekly roll-up of the daily metrics (ISO weeks starting on Monday), materialized.
DROP MATERIALIZED VIEW IF EXISTS public.user_weekly_metrics CASCADE;

CREATE MATERIALIZED VIEW public.user_weekly_metrics AS
SELECT
    d.user_id,
    d.date - (extract(ISODOW FROM d.date)::integer - 1) AS week_start,
    count(*) AS days_with_data,
    count(*) FILTER (WHERE d.checkin_completed) AS checkin_days,
    round(avg(d.mood_score), 2) AS avg_mood_score,
    sum(d.medications_taken) AS medications_taken,
    sum(d.medications_missed) AS medications_missed,
    sum(d.medications_partial) AS medications_partial,
    CASE
        WHEN sum(d.medications_taken + d.medications_partial + d.medications_missed) > 0
            THEN round(
                100 * (sum(d.medications_taken) + 0.5 * sum(d.medications_partial))
                / sum(d.medications_taken + d.medications_partial + d.medications_missed),
                1
            )
    END AS adherence_rate,
    now() AS last_updated
FROM public.user_daily_metrics AS d
GROUP BY d.user_id, d.date - (extract(ISODOW FROM d.date)::integer - 1);

CREATE UNIQUE INDEX user_weekly_metrics_user_week ON public.user_weekly_metrics (user_id, week_start);

COMMENT ON MATERIALIZED VIEW public.user_weekly_metrics IS
'Per user and week (week_start = Monday) from user_daily_metrics: days with data, check-in days, mean mood '
'score, medications taken/missed/partial, adherence_rate (percent: taken + 0.5 partial over taken + partial + '
'missed; NULL when none), last_updated. Refreshed after user_daily_metrics by public.refresh_user_metrics().';

GRANT SELECT ON public.user_weekly_metrics TO novara_analyst, novara_definer;
