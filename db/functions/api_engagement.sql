-- GET /api/insights/engagement: the caller's own engagement figures, never anyone else's.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.engagement(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    RETURN jsonb_build_object('success', TRUE, 'engagement', core.engagement_summary(uid, core.user_today(uid)));
END
$$;

ALTER FUNCTION api.engagement(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.engagement(jsonb) IS
'GET /api/insights/engagement. {success, engagement: {summary: {checkins, insights_viewed, engagement_rate, '
'period: {days, start_date, end_date}}, insights: [per insight_type counts]}} for the caller''s last 30 local days '
'(core.engagement_summary). NV401/NV404.';
