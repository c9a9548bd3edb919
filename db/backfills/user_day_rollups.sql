-- depends: functions/core_user_day_rollups_backfill.sql, views/user_weekly_metrics.sql
-- The backfill of migration 0050: the rollup of every user-day written before the trigger existed. Applied after
-- every function and view, in their transaction, so the routes that read the rollups appear with them complete.
-- The materialized views were rebuilt from the rollups before this filled them: refreshed once more when it did.
-- With nothing missing it costs one pass over the index (user_id, local_date) against the rollups' key.
DO $$
BEGIN
    IF core.user_day_rollups_backfill() > 0 THEN
        REFRESH MATERIALIZED VIEW public.user_daily_metrics;
        REFRESH MATERIALIZED VIEW public.user_weekly_metrics;
    END IF;
END
$$;
