-- GET /api/v2/analytics, computed for a given user: the caller's metrics over the last 7, 30 or 90 local days.
-- Read-only: api.analytics (on the primary, after importing the caller's pending V1-mode writes) and
-- api.analytics_read_only (on a standby) both answer with it.

CREATE OR REPLACE FUNCTION core.analytics(p_user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := p_user_id;
    v_timeframe text;
    v_days integer;
    v_end date;
    v_start date;
    v_daily jsonb;
    v_total bigint;
    v_checkins bigint;
    v_taken numeric;
    v_partial numeric;
    v_missed numeric;
    v_mood_data jsonb;
    v_scored integer;
    v_earlier numeric;
    v_later numeric;
    v_trend text := 'insufficient_data';
    v_counts jsonb;
BEGIN
    args := coalesce(args, '{}'::jsonb);
    v_timeframe := coalesce(
        core.check_value('timeframe', args -> 'timeframe', 'enum', allowed => ARRAY['week', 'month', 'quarter'])
        #>> '{}',
        'week'
    );
    v_days := CASE v_timeframe WHEN 'week' THEN 7 WHEN 'month' THEN 30 ELSE 90 END;
    v_end := core.user_today(uid);
    v_start := v_end - (v_days - 1);

    -- Every figure comes from the rollups kept by the writes (user_daily_metrics_live, user_day_rollups), never
    -- from the materialized views: one index range scan of at most 90 rows, whatever the history's length.
    -- Trend: mean mood score of the later half of the scored days against the earlier half (the middle day
    -- of an odd count belongs to neither); more than 0.5 apart is a change.
    WITH d AS MATERIALIZED (
        SELECT
            m.*,
            row_number() OVER (PARTITION BY m.mood_score IS NOT NULL ORDER BY m.date) AS scored_rn,
            count(m.mood_score) OVER () AS scored_total
        FROM public.user_daily_metrics_live AS m
        WHERE m.user_id = uid AND m.date BETWEEN v_start AND v_end
    )

    SELECT
        coalesce(
            jsonb_agg(
                (to_jsonb(d) - 'user_id' - 'scored_rn' - 'scored_total')
                || jsonb_build_object('date', to_char(d.date, 'YYYY-MM-DD'))
                ORDER BY d.date
            ),
            '[]'::jsonb
        ),
        coalesce(sum(d.event_count), 0),
        count(*) FILTER (WHERE d.checkin_completed),
        coalesce(sum(d.medications_taken), 0),
        coalesce(sum(d.medications_partial), 0),
        coalesce(sum(d.medications_missed), 0),
        coalesce(
            jsonb_agg(
                jsonb_build_object(
                    'date', to_char(d.date, 'YYYY-MM-DD'),
                    'mood', d.latest_mood,
                    'mood_score', d.mood_score,
                    'confidence', d.avg_confidence
                ) ORDER BY d.date
            ) FILTER (WHERE d.latest_mood IS NOT NULL),
            '[]'::jsonb
        ),
        count(d.mood_score),
        avg(d.mood_score) FILTER (WHERE d.scored_rn <= d.scored_total / 2),
        avg(d.mood_score) FILTER (WHERE d.scored_rn > d.scored_total - d.scored_total / 2)
    INTO v_daily, v_total, v_checkins, v_taken, v_partial, v_missed, v_mood_data, v_scored, v_earlier, v_later
    FROM d;

    IF v_scored >= 2 THEN
        v_trend := CASE
            WHEN v_later - v_earlier > 0.5 THEN 'improving'
            WHEN v_later - v_earlier < -0.5 THEN 'declining'
            ELSE 'stable'
        END;
    END IF;

    SELECT coalesce(jsonb_object_agg(c.event_type, c.n), '{}'::jsonb)
    INTO v_counts
    FROM (
        SELECT t.key AS event_type, sum(t.value::bigint) AS n
        FROM public.user_day_rollups AS r
        CROSS JOIN LATERAL jsonb_each_text(r.event_counts) AS t
        WHERE r.user_id = uid AND r.date BETWEEN v_start AND v_end
        GROUP BY t.key
    ) AS c;

    RETURN jsonb_build_object(
        'success', TRUE,
        'analytics', jsonb_build_object(
            'timeframe', v_timeframe,
            'start_date', to_char(v_start, 'YYYY-MM-DD'),
            'end_date', to_char(v_end, 'YYYY-MM-DD'),
            'total_events', v_total,
            'checkin_count', v_checkins,
            'adherence_rate', CASE WHEN v_taken + v_partial + v_missed > 0
                THEN round(100 * (v_taken + 0.5 * v_partial) / (v_taken + v_partial + v_missed), 1) END,
            'mood_trends', jsonb_build_object('mood_data', v_mood_data, 'trend', v_trend),
            'daily_metrics', v_daily,
            'event_counts', v_counts
        ),
        'schema_version', 'v2'
    );
END
$$;

COMMENT ON FUNCTION core.analytics(uuid, jsonb) IS
'The body of GET /api/v2/analytics for p_user_id (no import of V1-mode writes: api.analytics imports the '
'caller''s pending ones first, api.analytics_read_only refuses while there are some). '
'args timeframe week|month|quarter (7/30/90 local days ending today; default week; '
'else NV400). Reads the rollups the writes keep (user_daily_metrics_live over user_day_rollups), never the '
'materialized views, so it is never stale and costs the same whatever the length of the history. '
'adherence_rate = percent of taken (1) + partial (0.5) over taken, partial, missed and skipped answers.';
