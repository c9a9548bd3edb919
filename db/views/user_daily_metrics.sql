-- depends: views/user_daily_metrics_live.sql
-- The daily metrics, materialized for fast cross-user reads (dashboards, the guide's SQL). Refreshed by
-- public.refresh_user_metrics(); the API reads user_daily_metrics_live instead, so it is never stale.
DROP MATERIALIZED VIEW IF EXISTS public.user_daily_metrics CASCADE;

CREATE MATERIALIZED VIEW public.user_daily_metrics AS
SELECT
    m.*,
    now() AS last_updated
FROM public.user_daily_metrics_live AS m;

-- Unique, so REFRESH MATERIALIZED VIEW CONCURRENTLY works.
CREATE UNIQUE INDEX user_daily_metrics_user_date ON public.user_daily_metrics (user_id, date);

COMMENT ON MATERIALIZED VIEW public.user_daily_metrics IS
'Snapshot of user_daily_metrics_live (one row per user and local date, all users) plus last_updated, the '
'time of the refresh. Refresh with public.refresh_user_metrics() or REFRESH MATERIALIZED VIEW [CONCURRENTLY].';
COMMENT ON COLUMN public.user_daily_metrics.last_updated IS 'When this snapshot was taken (the last refresh).';

GRANT SELECT ON public.user_daily_metrics TO novara_analyst, novara_definer;
