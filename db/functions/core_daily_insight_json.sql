-- depends: functions/core_iso.sql
-- The answer of GET /api/insights/daily for a stored daily insight (api.daily_insight, api.daily_insight_read_only).

CREATE OR REPLACE FUNCTION core.daily_insight_json(ins public.insights)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'success', TRUE,
        'insight', jsonb_build_object(
            'id', ins.id,
            'type', ins.insight_type,
            'title', ins.title,
            'message', ins.message,
            'icon', ins.icon,
            'confidence', ins.confidence
        ),
        'analysis_data', jsonb_build_object(
            'checkins_analyzed', coalesce((ins.analysis_data ->> 'checkins_analyzed')::integer, 0),
            'date_range', coalesce(
                ins.analysis_data ->> 'date_range',
                to_char(ins.local_date - 6, 'YYYY-MM-DD') || ' to ' || to_char(ins.local_date, 'YYYY-MM-DD')
            ),
            'user_id', ins.user_id,
            'generated_at', core.iso(ins.created_at)
        )
    )
$$;

COMMENT ON FUNCTION core.daily_insight_json(public.insights) IS
'{success, insight: {id, type, title, message, icon, confidence}, analysis_data: {checkins_analyzed, date_range, '
'user_id, generated_at}} for one stored daily insight.';
