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

    SELECT m.checkin_completed, m.mood_score, m.avg_confidence
    INTO v_checkin, v_mood, v_confidence
    FROM public.user_daily_metrics_live AS m
    WHERE m.user_id = uid AND m.date = v_date;

    -- The day's latest live medication answer: the V1 value when it came from a check-in, else the status.
    SELECT coalesce(l.event_data -> 'fields' ->> 'medication_taken', l.event_data ->> 'status')
    INTO v_medication
    FROM public.health_events_live AS l
    WHERE l.user_id = uid AND l.local_date = v_date AND l.event_type = 'medication'
    ORDER BY l.occurred_at DESC, l.position DESC
    LIMIT 1;

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
'The body of GET /api/v2/health/daily-summary for p_user_id (no import of V1-mode writes). '
'VOLATILE, so the gateway runs it on the primary: it first imports the caller''s pending V1-mode writes '
'into the event log (core.sync_legacy_checkins, docs/v1-v2-sync.md), which a standby cannot do. '
'args date (YYYY-MM-DD, default the caller''s today, core.user_today). {success, '
'summary: {date, user_id, check_in_completed, mood_score, confidence_score, medication_taken, events (live, newest '
'first), insights}, schema_version}; scores from user_daily_metrics_live, so never stale.';
