-- The deployment guide's monitoring in one call (`novara monitor`): the event log's pace, the metrics views'
-- freshness, the api functions that cost the database most (pg_stat_statements, where loaded), the gateway's
-- connections, the WAL archive (core.wal_archive) and the audit's recent reads. Read-only; each part is cheap on a
-- large log (no full scan).

CREATE OR REPLACE FUNCTION core.monitoring(p_window_rows integer DEFAULT 200000)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    stats_schema name;
    top jsonb;
    statements text;
BEGIN
    -- pg_stat_statements: its schema is wherever the extension was created; its view errors when the library is
    -- not preloaded (then: why, instead of the list).
    SELECT n.nspname INTO stats_schema
    FROM pg_catalog.pg_extension AS x
    INNER JOIN pg_catalog.pg_namespace AS n ON x.extnamespace = n.oid
    WHERE x.extname = 'pg_stat_statements';
    IF stats_schema IS NULL THEN
        statements := 'pg_stat_statements is not installed (CREATE EXTENSION pg_stat_statements; docs/operations.md)';
    ELSE
        BEGIN
            -- The gateway's statement per call (gateway/db.py):
            --   SELECT r.body::text, current_setting('response.status', true) FROM (SELECT "api"."<function>"(...
            EXECUTE format($q$
                SELECT coalesce(jsonb_agg(t ORDER BY t.total_ms DESC), '[]'::jsonb)
                FROM (
                    SELECT
                        substring(s.query FROM '^SELECT r\.body::text, [^(]+\([^)]+\) FROM \(SELECT "?api"?\."?([a-z0-9_]+)')
                            AS function,
                        sum(s.calls)::bigint AS calls,
                        round(sum(s.total_exec_time)::numeric, 1) AS total_ms,
                        round((sum(s.total_exec_time) / nullif(sum(s.calls), 0))::numeric, 3) AS mean_ms,
                        round(max(s.max_exec_time)::numeric, 1) AS max_ms
                    FROM %I.pg_stat_statements AS s
                    WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
                        AND s.query ~ '^SELECT r\.body::text, [^(]+\([^)]+\) FROM \(SELECT "?api"?\."?[a-z0-9_]+"?\('
                    GROUP BY 1
                    ORDER BY 3 DESC
                    LIMIT 10
                ) AS t
            $q$, stats_schema) INTO top;
            statements := 'ok';
        EXCEPTION WHEN object_not_in_prerequisite_state OR insufficient_privilege THEN
            statements := SQLERRM;
        END;
    END IF;

    RETURN jsonb_build_object(
        'generated_at', core.iso(clock_timestamp()),
        -- The latest p_window_rows events by position (the log's order of writing), counted by when they were
        -- recorded: an index scan of the newest rows, not the whole log.
        'events', (
            SELECT jsonb_build_object(
                -- the planner's estimate (-1, i.e. null here, until the table was first analyzed)
                'total_estimate', (SELECT nullif(c.reltuples, -1)::bigint FROM pg_catalog.pg_class AS c
                    WHERE c.oid = 'public.health_events'::regclass),
                'last_minute', count(*) FILTER (WHERE w.recorded_at > clock_timestamp() - interval '1 minute'),
                'last_5_minutes', count(*) FILTER (WHERE w.recorded_at > clock_timestamp() - interval '5 minutes'),
                'last_hour', count(*) FILTER (WHERE w.recorded_at > clock_timestamp() - interval '1 hour'),
                'per_minute_last_hour', round(
                    count(*) FILTER (WHERE w.recorded_at > clock_timestamp() - interval '1 hour') / 60.0, 1
                ),
                'latest_recorded_at', core.iso(max(w.recorded_at)),
                'counted_rows_capped_at', p_window_rows
            )
            FROM (
                SELECT e.recorded_at FROM public.health_events AS e ORDER BY e.position DESC LIMIT p_window_rows
            ) AS w
        ),
        'metrics_views', (
            SELECT coalesce(jsonb_object_agg(v.view_name, jsonb_build_object(
                'last_refresh', core.iso(l.refreshed_at),
                'age_seconds', round(extract(EPOCH FROM clock_timestamp() - l.refreshed_at)),
                'duration_ms', l.duration_ms,
                'concurrent', l.was_concurrent,
                'populated', (SELECT c.relispopulated FROM pg_catalog.pg_class AS c
                    WHERE c.oid = to_regclass('public.' || v.view_name))
            )), '{}'::jsonb)
            FROM (VALUES ('user_daily_metrics'), ('user_weekly_metrics')) AS v (view_name)
            LEFT JOIN LATERAL (
                SELECT r.refreshed_at, r.duration_ms, r.was_concurrent FROM public.metrics_refresh_log AS r
                WHERE r.view_name = v.view_name ORDER BY r.refreshed_at DESC LIMIT 1
            ) AS l ON TRUE
        ),
        'top_api_functions', jsonb_build_object('status', statements, 'by_total_time', coalesce(top, '[]'::jsonb)),
        'gateway_connections', (
            SELECT jsonb_build_object(
                'total', count(*),
                'active', count(*) FILTER (WHERE a.state = 'active'),
                'idle', count(*) FILTER (WHERE a.state = 'idle'),
                'waiting_on_locks', count(*) FILTER (WHERE a.wait_event_type = 'Lock')
            )
            FROM pg_catalog.pg_stat_activity AS a
            WHERE a.application_name = 'novara-gateway' AND a.datname = current_database()
        ),
        'wal_archive', core.wal_archive(),
        'audited_reads_last_day', (
            SELECT jsonb_build_object(
                'records', count(*), 'readers', count(DISTINCT l.reader), 'people', count(DISTINCT l.subject_id)
            )
            FROM public.data_access_log AS l
            WHERE l.read_at > clock_timestamp() - interval '1 day'
        )
    );
END
$$;

REVOKE ALL ON FUNCTION core.monitoring(integer) FROM public, novara_api, novara_definer, novara_analyst;

COMMENT ON FUNCTION core.monitoring(integer) IS
'The guide''s monitoring in one call (DBAs; `novara monitor`): events (recorded in the last minute, 5 minutes, '
'hour, counted over the newest p_window_rows by position; the table''s row estimate), each metrics view''s last '
'refresh and age, the ten api.* functions with the most total time in pg_stat_statements (or why not), the '
'gateway''s connections, the WAL archive (core.wal_archive(): replication slots, archiver) and the audit''s reads '
'of the last day.';
