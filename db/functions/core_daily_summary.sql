-- GET /api/v2/health/daily-summary, computed for a given user: one local day of the caller, from the live events.
-- Read-only: api.daily_summary (on the primary, after importing the caller's pending V1-mode writes) and
-- api.daily_summary_read_only (on a standby) both answer with it.

CREATE OR REPLACE FUNCTION core.daily_summary(p_user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := p_user_id;
    v_date date;
    v_checkin boolean := FALSE;
    v_mood numeric;
    v_confidence numeric;
    v_medication text;
    v_events jsonb;
    v_insights jsonb;
BEGIN
    args := coalesce(args, '{}'::jsonb);
    v_date := coalesce(
        core.parse_date(core.check_value('date', args -> 'date', 'string') #>> '{}', 'date'),
        core.user_today(uid)
    );

    -- The day's figures from its rollup (kept by the writes): the scores, and the latest live medication answer
    -- (the V1 value when it came from a check-in, else the status).
    SELECT m.checkin_completed, m.mood_score, m.avg_confidence, r.latest_medication
    INTO v_checkin, v_mood, v_confidence, v_medication
    FROM public.user_daily_metrics_live AS m
    INNER JOIN public.user_day_rollups AS r ON r.user_id = m.user_id AND r.date = m.date
    WHERE m.user_id = uid AND m.date = v_date;

    SELECT coalesce(jsonb_agg(core.event_json(e) ORDER BY e.occurred_at DESC, e.position DESC), '[]'::jsonb)
    INTO v_events
    FROM public.health_events_live AS l
    INNER JOIN public.health_events AS e ON e.id = l.id
    WHERE l.user_id = uid AND l.local_date = v_date;

    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', i.id,
                'type', i.insight_type,
                'title', i.title,
                'message', i.message,
                'icon', i.icon,
                'confidence', i.confidence,
                'created_at', core.iso(i.created_at)
            ) ORDER BY i.created_at DESC, i.id
        ),
        '[]'::jsonb
    )
    INTO v_insights
    FROM public.insights AS i
    WHERE i.user_id = uid AND i.local_date = v_date;

    RETURN jsonb_build_object(
        'success', TRUE,
        'summary', jsonb_build_object(
            'date', to_char(v_date, 'YYYY-MM-DD'),
            'user_id', uid,
            'check_in_completed', coalesce(v_checkin, FALSE),
            'mood_score', v_mood,
            'confidence_score', v_confidence,
            'medication_taken', v_medication,
            'events', v_events,
            'insights', v_insights
        ),
        'schema_version', 'v2'
    );
END
$$;

COMMENT ON FUNCTION core.daily_summary(uuid, jsonb) IS
'The body of GET /api/v2/health/daily-summary for p_user_id (no import of V1-mode writes: api.daily_summary '
'imports the caller''s pending ones first, api.daily_summary_read_only refuses while there are some). '
'args date (YYYY-MM-DD, default the caller''s today, core.user_today). {success, '
'summary: {date, user_id, check_in_completed, mood_score, confidence_score, medication_taken, events (live, newest '
'first), insights}, schema_version}; scores and the medication answer from the day''s rollup (user_day_rollups, '
'kept by the writes), so never stale.';
