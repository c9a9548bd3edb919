-- GET /api/insights/micro: a short welcome or encouragement line for the caller, chosen by the
-- rules of public.insight_rules (rule_set 'micro').

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.micro_insight(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    today date := core.user_today(uid);
    facts jsonb;
    r public.insight_rules;
BEGIN
    SELECT jsonb_build_object(
        'name', coalesce((SELECT p.nickname FROM public.user_profiles AS p WHERE p.user_id = uid), 'friend'),
        'total_checkins', count(*),
        'checked_in_today', coalesce(bool_or(d.date_submitted = today), FALSE),
        'days_since_last_checkin', today - max(d.date_submitted) FILTER (WHERE d.date_submitted <= today),
        'streak', core.checkin_streak(uid, today)
    )
    INTO facts
    FROM public.daily_checkins AS d
    WHERE d.user_id = uid;

    SELECT m.* INTO r FROM core.matching_rules('micro', facts) AS m ORDER BY m.priority DESC, m.rule_key LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.micro_insight: no enabled micro rule matches (insight_rules needs a fallback rule)';
    END IF;
    RETURN jsonb_build_object(
        'success', TRUE,
        'insight', jsonb_build_object(
            'type', r.insight_type,
            'message', core.render_template(r.message, facts),
            'subMessage', core.render_template(r.sub_message, facts),
            'icon', r.icon
        )
    );
END
$$;

ALTER FUNCTION api.micro_insight(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.micro_insight(jsonb) IS
'GET /api/insights/micro. {success, insight: {type, message, subMessage, icon}}: the highest-priority micro rule '
'matching the caller''s facts (total_checkins, checked_in_today, streak, days_since_last_checkin, name; check-ins '
'from daily_checkins), read-only. NV401/NV404.';
