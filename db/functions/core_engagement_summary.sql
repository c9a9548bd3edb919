-- depends: functions/core_insight_engagement_rate.sql, functions/core_iso.sql
-- GET /api/insights/engagement, computed: the caller's own engagement figures over the last 30 local days.

CREATE OR REPLACE FUNCTION core.engagement_summary(p_user_id uuid, p_today date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'checkins', (
                SELECT count(*)
                FROM public.daily_checkins AS d
                WHERE d.user_id = p_user_id AND d.date_submitted BETWEEN p_today - 29 AND p_today
            ),
            'insights_viewed', (
                SELECT count(DISTINCT coalesce(g.insight_id::text, 'ref:' || g.client_ref, g.id::text))
                FROM public.insight_engagement AS g
                WHERE g.user_id = p_user_id AND g.local_date BETWEEN p_today - 29 AND p_today AND g.action = 'viewed'
            ),
            'engagement_rate', core.insight_engagement_rate(p_user_id, p_today - 29, p_today),
            'period', jsonb_build_object(
                'days', 30,
                'start_date', to_char(p_today - 29, 'YYYY-MM-DD'),
                'end_date', to_char(p_today, 'YYYY-MM-DD')
            )
        ),
        'insights', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'insight_type', t.insight_type,
                'viewed', t.viewed,
                'clicked', t.clicked,
                'dismissed', t.dismissed,
                'refreshed', t.refreshed,
                'liked', t.liked,
                'saved', t.saved,
                'total', t.total,
                'last_engaged_at', core.iso(t.last_at)
            ) ORDER BY t.total DESC, t.insight_type), '[]'::jsonb)
            FROM (
                SELECT
                    g.insight_type,
                    count(*) FILTER (WHERE g.action = 'viewed') AS viewed,
                    count(*) FILTER (WHERE g.action = 'clicked') AS clicked,
                    count(*) FILTER (WHERE g.action = 'dismissed') AS dismissed,
                    count(*) FILTER (WHERE g.action = 'refreshed') AS refreshed,
                    count(*) FILTER (WHERE g.action = 'liked') AS liked,
                    count(*) FILTER (WHERE g.action = 'saved') AS saved,
                    count(*) AS total,
                    max(g.created_at) AS last_at
                FROM public.insight_engagement AS g
                WHERE g.user_id = p_user_id AND g.local_date BETWEEN p_today - 29 AND p_today
                GROUP BY g.insight_type
            ) AS t
        )
    )
$$;

COMMENT ON FUNCTION core.engagement_summary(uuid, date) IS
'{summary: {checkins (check-ins dated in the 30 local days ending p_today), insights_viewed (distinct insights '
'viewed: by stored insight, else by client reference; a view naming neither counts once), engagement_rate '
'(core.insight_engagement_rate), period}, '
'insights: [{insight_type, viewed, clicked, dismissed, refreshed, liked, saved, total, last_engaged_at}]}.';
