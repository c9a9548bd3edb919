-- Refresh the metrics materialized views (daily, then weekly built on it) and log each refresh. The metrics are
-- current without it: every write keeps the rollups they copy (user_day_rollups, migration 0050), so a refresh
-- copies one row per user-day and aggregates no event. The check-in writes of V1 mode not imported into the event
-- log yet are imported first (docs/v1-v2-sync.md), which updates their days' rollups, so a refresh reflects every
-- check-in committed before it, whatever mode wrote it.

CREATE OR REPLACE FUNCTION public.refresh_user_metrics(concurrently boolean DEFAULT TRUE)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    v_view text;
    v_concurrent boolean;
    v_started timestamptz;
    v_ms integer;
    v_result jsonb := '{}'::jsonb;
    v_imported integer := 0;
    n integer;
BEGIN
    LOOP
        n := core.sync_legacy_checkins(NULL, 10000);
        v_imported := v_imported + n;
        EXIT WHEN n = 0;
    END LOOP;
    FOREACH v_view IN ARRAY ARRAY['user_daily_metrics', 'user_weekly_metrics'] LOOP
        -- CONCURRENTLY needs a populated view (it diffs against the current contents).
        v_concurrent := coalesce(refresh_user_metrics.concurrently, TRUE) AND (
            SELECT c.relispopulated FROM pg_catalog.pg_class AS c
            WHERE c.oid = ('public.' || v_view)::regclass
        );
        v_started := clock_timestamp();
        EXECUTE format(
            'REFRESH MATERIALIZED VIEW %s public.%I', CASE WHEN v_concurrent THEN 'CONCURRENTLY' ELSE '' END, v_view
        );
        v_ms := round(extract(EPOCH FROM clock_timestamp() - v_started) * 1000)::integer;
        INSERT INTO public.metrics_refresh_log (view_name, duration_ms, was_concurrent)
        VALUES (v_view, v_ms, v_concurrent);
        v_result := v_result || jsonb_build_object(v_view, jsonb_build_object(
            'duration_ms', v_ms, 'concurrent', v_concurrent
        ));
    END LOOP;
    RETURN v_result
        || jsonb_build_object('v1_writes_imported', v_imported, 'refreshed_at', core.iso(clock_timestamp()));
END
$$;

COMMENT ON FUNCTION public.refresh_user_metrics(boolean) IS
'Refresh user_daily_metrics then user_weekly_metrics (CONCURRENTLY when asked and the view is populated), after '
'importing the pending check-in writes of V1 mode into the event log they are built from '
'(core.sync_legacy_checkins); log each refresh in metrics_refresh_log; returns {user_daily_metrics: {duration_ms, '
'concurrent}, user_weekly_metrics: {...}, v1_writes_imported, refreshed_at}. Run by the views'' owner (cron, DBA). '
'The snapshots copy the rollups that every write keeps current (user_day_rollups): no event is aggregated, and '
'nothing else needs the refresh (the API reads the rollups).';
