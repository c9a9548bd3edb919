-- depends: functions/core_iso.sql
-- A stored insight as JSON (GET /api/insights items).

CREATE OR REPLACE FUNCTION core.insight_json(i public.insights)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'id', i.id,
        'type', i.insight_type,
        'category', i.category,
        'title', i.title,
        'message', i.message,
        'icon', i.icon,
        'confidence', i.confidence,
        'priority', i.priority,
        'date', to_char(i.local_date, 'YYYY-MM-DD'),
        'created_at', core.iso(i.created_at)
    )
$$;

COMMENT ON FUNCTION core.insight_json(public.insights) IS
'An insight row as {id, type, category, title, message, icon, confidence, priority, date (its local day), '
'created_at}.';
