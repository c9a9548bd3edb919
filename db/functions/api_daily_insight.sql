-- GET /api/insights/daily: the caller's insight of the day, from the rules (public.insight_rules,
-- rule_set 'daily') over the last 7 local days of check-ins, stored in insights and reused only while what it
-- was computed from is unchanged (core.daily_insight_inputs).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.daily_insight(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    prof public.user_profiles;
    today date;
    ins public.insights;
    facts jsonb;
    v_inputs text;
    r public.insight_rules;
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    prof := core.daily_insight_profile(uid);  -- NV403 until the profile is complete

    today := core.user_today(uid);
    facts := core.daily_insight_facts(uid, today) || jsonb_build_object('name', coalesce(prof.nickname, 'friend'));
    v_inputs := core.daily_insight_inputs(uid, facts);
    SELECT i.* INTO ins
    FROM public.insights AS i
    WHERE
        i.user_id = uid AND i.local_date = today AND i.category = 'daily' AND i.inputs_fingerprint = v_inputs;

    IF NOT FOUND THEN
        SELECT m.* INTO r FROM core.matching_rules('daily', facts) AS m ORDER BY m.priority DESC, m.rule_key LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'api.daily_insight: no enabled daily rule matches (insight_rules needs a fallback rule)';
        END IF;
        -- One per user, day and inputs: of two concurrent requests over the same inputs one inserts, the other
        -- waits for it on the unique index and takes its row. Earlier insights of the day stay in the history.
        INSERT INTO public.insights AS i (
            user_id, insight_type, category, priority, title, message, icon, confidence, local_date, analysis_data,
            inputs_fingerprint, created_at
        ) VALUES (
            uid, r.insight_type, 'daily', r.priority,
            core.render_template(r.title, facts),
            core.render_template(r.message, facts),
            r.icon,
            least(r.confidence_max, r.confidence_base + r.confidence_step * (facts ->> 'checkins_analyzed')::integer),
            today,
            jsonb_build_object(
                'checkins_analyzed', (facts ->> 'checkins_analyzed')::integer,
                'date_range', (facts ->> 'window_start') || ' to ' || (facts ->> 'window_end'),
                'rule', r.rule_key,
                'facts', facts
            ),
            v_inputs,
            -- The instant it was computed (generated_at): several insights of one transaction keep their order.
            clock_timestamp()
        )
        ON CONFLICT (user_id, local_date, inputs_fingerprint) WHERE category = 'daily' DO NOTHING
        RETURNING i.* INTO ins;
        IF ins.id IS NULL THEN
            SELECT i.* INTO STRICT ins
            FROM public.insights AS i
            WHERE
                i.user_id = uid AND i.local_date = today AND i.category = 'daily'
                AND i.inputs_fingerprint = v_inputs;
        END IF;
    END IF;

    RETURN core.daily_insight_json(ins);
END
$$;

ALTER FUNCTION api.daily_insight(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.daily_insight(jsonb) IS
'GET /api/insights/daily. VOLATILE: it imports the caller''s pending V1-mode writes first '
'(core.sync_legacy_checkins, docs/v1-v2-sync.md), and the first call for a day and a set of inputs stores the '
'insight it computes (each computed insight keeps an id and stays in the history, GET /api/insights), and the inputs '
'change with the calendar as well as with writes (the window is the last 7 local days ending today), so no write can '
'store it ahead of the read. The gateway serves the route with api.daily_insight_read_only (STABLE, a standby), '
'which answers with the stored insight, and calls this one, on the primary, only when there is none yet for today''s '
'inputs or V1-mode writes are pending. {success, insight: {id, type, title, message, icon, confidence}, '
'analysis_data: {checkins_analyzed, date_range, user_id, generated_at}}: the daily rules over the last 7 local days '
'ending on the caller''s today (core.user_today), stored; the stored insight is returned again only while its inputs '
'are unchanged (core.daily_insight_inputs), else a new one is stored (earlier ones stay listed). NV403 '
'ONBOARDING_REQUIRED (requires_onboarding_completion, user_status) until baseline_completed; NV401/NV404.';
