-- depends: views/user_daily_metrics_live.sql
-- The daily metrics as a snapshot, for the deployment guide's SQL (`SELECT * FROM user_daily_metrics`, its freshness
-- query on last_updated, `REFRESH MATERIALIZED VIEW [CONCURRENTLY] user_daily_metrics`), which keeps working as
-- written. What it snapshots changed: user_daily_metrics_live reads the rollups that every write keeps current
-- (migration 0050), so a refresh copies one row per user-day and aggregates no event; the API and current
-- dashboards read user_daily_metrics_live (or analyst_daily_metrics) and need no refresh at all.
DROP MATERIALIZED VIEW IF EXISTS public.user_daily_metrics CASCADE;

CREATE MATERIALIZED VIEW public.user_daily_metrics AS
SELECT
    m.*,
    now() AS last_updated
FROM public.user_daily_metrics_live AS m;

-- Unique, so REFRESH MATERIALIZED VIEW CONCURRENTLY works.
CREATE UNIQUE INDEX user_daily_metrics_user_date ON public.user_daily_metrics (user_id, date);

COMMENT ON MATERIALIZED VIEW public.user_daily_metrics IS
'Snapshot of user_daily_metrics_live (one row per user and local date, all users) plus last_updated, the time of '
'the refresh. The metrics themselves are current at every write (rollups in user_day_rollups, read through '
'user_daily_metrics_live); REFRESH MATERIALIZED VIEW [CONCURRENTLY] user_daily_metrics (or '
'public.refresh_user_metrics()) copies them here: no event is aggregated, the cost grows with the number of '
'user-days. Only for readers who want a fixed snapshot; SELECT last_updated ... says when it was taken.';
COMMENT ON COLUMN public.user_daily_metrics.last_updated IS
'When this snapshot was taken (the last refresh); the rollups it copies are current at every write.';

GRANT SELECT ON public.user_daily_metrics TO novara_analyst, novara_definer;
