-- GET /api/v2/health/timeline, computed for a given user: the caller's events, newest first, one page at a time.
-- Read-only: api.timeline (on the primary, after importing the caller's pending V1-mode writes) and
-- api.timeline_read_only (on a standby) both answer with it.

CREATE OR REPLACE FUNCTION core.timeline(p_user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    date_re constant text := '^\d{4}-\d{2}-\d{2}$';
    uid uuid := p_user_id;
    v_tz text;
    v_start text;
    v_end text;
    v_from timestamptz;
    v_to timestamptz;
    v_types text[];
    v_unknown text;
    v_limit integer;
    v_before text;
    v_cur_at timestamptz := 'infinity';
    v_cur_pos bigint := 9223372036854775807;
    v_hist boolean := FALSE;
    v_events jsonb;
    v_count integer;
    v_next text;
BEGIN
    args := coalesce(args, '{}'::jsonb);
    v_tz := core.user_timezone(uid);

    -- Window: dates are the user's local days (inclusive), instants are taken as given (inclusive).
    v_start := core.check_value('start_date', args -> 'start_date', 'string') #>> '{}';
    v_end := core.check_value('end_date', args -> 'end_date', 'string') #>> '{}';
    IF v_end IS NULL THEN
        v_to := 'infinity';
    ELSIF v_end ~ date_re THEN
        v_to := (core.parse_date(v_end, 'end_date') + 1)::timestamp AT TIME ZONE v_tz;
    ELSE
        v_to := core.parse_instant(v_end, 'end_date') + interval '1 microsecond';
    END IF;
    IF v_start IS NOT NULL THEN
        IF v_start ~ date_re THEN
            v_from := core.parse_date(v_start, 'start_date')::timestamp AT TIME ZONE v_tz;
        ELSE
            v_from := core.parse_instant(v_start, 'start_date');
        END IF;
    ELSIF v_end IS NULL THEN
        v_from := (core.user_today(uid) - 29)::timestamp AT TIME ZONE v_tz;
    ELSIF v_end ~ date_re THEN
        v_from := (core.parse_date(v_end, 'end_date') - 29)::timestamp AT TIME ZONE v_tz;
    ELSE
        v_from := v_to - interval '30 days';
    END IF;
    IF v_from >= v_to THEN
        PERFORM core.fail(400, 'start_date must not be after end_date', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'start_date'));
    END IF;

    -- event_types: a comma list of registered types.
    IF coalesce(jsonb_typeof(args -> 'event_types'), 'null') <> 'null' THEN
        v_types := ARRAY(
            SELECT DISTINCT btrim(t.name)
            FROM regexp_split_to_table(
                core.check_value('event_types', args -> 'event_types', 'string', max_length => 1000) #>> '{}', ','
            ) AS t (name)
            WHERE btrim(t.name) <> ''
        );
        SELECT u.name INTO v_unknown
        FROM unnest(v_types) AS u (name)
        WHERE NOT EXISTS (SELECT 1 FROM public.event_types AS et WHERE et.event_type = u.name)
        ORDER BY u.name
        LIMIT 1;
        IF v_unknown IS NOT NULL THEN
            PERFORM core.fail(400, 'Unknown event_type: ' || v_unknown, 'VALIDATION_ERROR',
                jsonb_build_object('field', 'event_types'));
        END IF;
        IF cardinality(v_types) = 0 THEN
            v_types := NULL;
        END IF;
    END IF;

    v_limit := coalesce((core.check_value('limit', args -> 'limit', 'integer', 1, 1000) #>> '{}')::integer, 100);

    -- before: the cursor next_before of the previous page, "<occurred_at epoch microseconds>_<position>".
    v_before := core.check_value('before', args -> 'before', 'string') #>> '{}';
    IF v_before IS NOT NULL THEN
        IF v_before !~ '^-?\d{1,16}_\d{1,18}$' THEN
            PERFORM core.fail(400, 'before must be a cursor returned as next_before', 'VALIDATION_ERROR',
                jsonb_build_object('field', 'before'));
        END IF;
        v_cur_at := timestamptz 'epoch' + split_part(v_before, '_', 1)::bigint * interval '1 microsecond';
        v_cur_pos := split_part(v_before, '_', 2)::bigint;
    END IF;

    IF coalesce(jsonb_typeof(args -> 'include_history'), 'null') <> 'null' THEN
        IF lower(args ->> 'include_history') NOT IN ('true', 'false') THEN
            PERFORM core.fail(400, 'include_history must be true or false', 'VALIDATION_ERROR',
                jsonb_build_object('field', 'include_history'));
        END IF;
        v_hist := lower(args ->> 'include_history') = 'true';
    END IF;

    -- One page (+1 row to know whether another follows), walking health_events_user_occurred: every event
    -- of the log with include_history, else the live ones (the rule of the view public.health_events_live,
    -- written out here so the rows keep the table's type for core.event_json).
    WITH candidates AS (
        (
            SELECT e AS ev
            FROM public.health_events AS e
            WHERE
                v_hist
                AND e.user_id = uid
                AND e.occurred_at >= v_from AND e.occurred_at < v_to
                AND (e.occurred_at, e.position) < (v_cur_at, v_cur_pos)
                AND (v_types IS NULL OR e.event_type = ANY (v_types))
            ORDER BY e.occurred_at DESC, e.position DESC
            LIMIT v_limit + 1
        )
        UNION ALL
        (
            SELECT e AS ev
            FROM public.health_events AS e
            WHERE
                NOT v_hist
                AND e.user_id = uid
                AND e.occurred_at >= v_from AND e.occurred_at < v_to
                AND (e.occurred_at, e.position) < (v_cur_at, v_cur_pos)
                AND (v_types IS NULL OR e.event_type = ANY (v_types))
                AND e.action <> 'retract'
                AND NOT EXISTS (
                    SELECT 1 FROM public.health_events AS s
                    WHERE s.related_event_id = e.id AND s.action <> 'record'
                )
            ORDER BY e.occurred_at DESC, e.position DESC
            LIMIT v_limit + 1
        )
    ),

    page AS (
        SELECT
            c.ev,
            row_number() OVER (ORDER BY (c.ev).occurred_at DESC, (c.ev).position DESC) AS rn
        FROM candidates AS c
    )

    SELECT
        coalesce(jsonb_agg(core.event_json(p.ev) ORDER BY p.rn) FILTER (WHERE p.rn <= v_limit), '[]'::jsonb),
        count(*) FILTER (WHERE p.rn <= v_limit),
        CASE WHEN count(*) > v_limit THEN
            max(
                (extract(EPOCH FROM (p.ev).occurred_at) * 1000000)::bigint::text || '_' || (p.ev).position::text
            ) FILTER (WHERE p.rn = v_limit)
        END
    INTO v_events, v_count, v_next
    FROM page AS p;

    RETURN jsonb_build_object(
        'success', TRUE,
        'timeline', v_events,
        'count', v_count,
        'next_before', v_next,
        'schema_version', 'v2'
    );
END
$$;

COMMENT ON FUNCTION core.timeline(uuid, jsonb) IS
'The body of GET /api/v2/health/timeline for p_user_id (no import of V1-mode writes). '
'VOLATILE, so the gateway runs it on the primary: it first imports the caller''s pending V1-mode writes '
'into the event log (core.sync_legacy_checkins, docs/v1-v2-sync.md), which a standby cannot do. '
'args start_date/end_date (YYYY-MM-DD local days or ISO instants, inclusive; '
'default the last 30 local days), event_types (comma list; unknown -> NV400), limit (1-1000, default 100), '
'before (cursor next_before), include_history (true shows superseded and retraction events). '
'{success, timeline: [event], count, next_before|null, schema_version}, newest occurred_at first.';
