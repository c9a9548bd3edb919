-- depends: functions/core_identity.sql, functions/core_user_today.sql
-- Writing V1 check-ins as events (design-v2.md, "A V1 check-in as events"): the date rules, the split of
-- the answers into per-event payloads, and the three writes (record, correct, retract). A check-in is a
-- group of health_events sharing correlation_id = the check-in's id, source 'checkin_v1'; live_checkins
-- is its one-row projection (unique per user and local date, so duplicates are refused race-safely).

CREATE OR REPLACE FUNCTION core.checkin_date(value jsonb, p_user_id uuid, p_now timestamptz DEFAULT now())
RETURNS date
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    d date;
    latest date;
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN core.user_today(p_user_id, p_now);
    END IF;
    d := core.parse_date(value #>> '{}', 'date_submitted');
    -- "Not later than tomorrow in any timezone": the latest today on Earth is at UTC+14.
    latest := core.latest_calendar_date(p_now) + 1;
    IF d > latest THEN
        PERFORM core.fail(400, 'date_submitted must not be later than tomorrow', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'date_submitted'));
    END IF;
    IF d < DATE '2000-01-01' THEN
        PERFORM core.fail(400, 'date_submitted must not be before 2000-01-01', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'date_submitted'));
    END IF;
    RETURN d;
END
$$;

COMMENT ON FUNCTION core.checkin_date(jsonb, uuid, timestamptz) IS
'The date_submitted of a check-in: the given YYYY-MM-DD verbatim (2000-01-01 .. tomorrow at UTC+14, else '
'NV400 naming date_submitted), or when absent/null the user''s today at p_now (core.user_today; default now()).';

CREATE OR REPLACE FUNCTION core.checkin_occurred_at(p_user_id uuid, p_date date, p_now timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN p_date = core.local_date(p_user_id, p_now) THEN p_now
        ELSE (p_date + TIME '12:00') AT TIME ZONE core.user_timezone(p_user_id)
    END
$$;

COMMENT ON FUNCTION core.checkin_occurred_at(uuid, date, timestamptz) IS
'occurred_at of a check-in''s events: p_now when p_date is the user''s local today, else noon local time '
'of p_date (in the profile timezone).';

CREATE OR REPLACE FUNCTION core.checkin_payloads(p_fields jsonb, p_checkin_type text)
RETURNS TABLE (event_type text, event_subtype text, event_data jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    groups jsonb;
    symptoms jsonb;
BEGIN
    -- The answers by event type (checkin_fields.event_type); extras go with the mood event.
    SELECT coalesce(jsonb_object_agg(g.grp, g.obj), '{}'::jsonb) INTO groups
    FROM (
        SELECT coalesce(f.event_type, 'mood') AS grp, jsonb_object_agg(e.key, e.value) AS obj
        FROM jsonb_each(p_fields) AS e
        LEFT JOIN public.checkin_fields AS f ON f.field = e.key
        GROUP BY coalesce(f.event_type, 'mood')
    ) AS g;

    event_type := 'mood';
    event_subtype := 'daily_checkin';
    event_data := jsonb_build_object(
        'mood', p_fields -> 'mood_today',
        'confidence', p_fields -> 'confidence_today',
        'checkin_type', p_checkin_type,
        'fields', coalesce(groups -> 'mood', '{}'::jsonb)
    );
    IF jsonb_typeof(p_fields -> 'anxiety_level') = 'number' THEN
        event_data := event_data || jsonb_build_object('anxiety', p_fields -> 'anxiety_level');
    END IF;
    IF jsonb_typeof(p_fields -> 'user_note') = 'string' THEN
        event_data := event_data || jsonb_build_object('note', p_fields -> 'user_note');
    END IF;
    RETURN NEXT;

    IF groups ? 'medication' THEN
        event_type := 'medication';
        event_subtype := 'daily_checkin';
        event_data := jsonb_build_object(
            'status', CASE coalesce(p_fields ->> 'medication_taken', 'not tracked')
                WHEN 'yes' THEN 'taken'
                WHEN 'no' THEN 'missed'
                WHEN 'partial' THEN 'partial'
                WHEN 'not_applicable' THEN 'not_applicable'
                ELSE 'not_tracked'
            END,
            'fields', groups -> 'medication'
        );
        IF jsonb_typeof(p_fields -> 'missed_doses') = 'number' THEN
            event_data := event_data || jsonb_build_object('missed_doses', p_fields -> 'missed_doses');
        END IF;
        RETURN NEXT;
    END IF;

    IF groups ? 'symptom' THEN
        -- side_effects ++ the string items of physical_symptoms (the registry allows 100 items).
        SELECT coalesce(jsonb_agg(s.item ORDER BY s.src, s.n), '[]'::jsonb) INTO symptoms
        FROM (
            SELECT a.src, a.n, a.item
            FROM (
                SELECT 1 AS src, x.n, x.item
                FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(p_fields -> 'side_effects') = 'array'
                        THEN p_fields -> 'side_effects' ELSE '[]'::jsonb END
                ) WITH ORDINALITY AS x (item, n)
                UNION ALL
                SELECT 2 AS src, x.n, x.item
                FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(p_fields -> 'physical_symptoms') = 'array'
                        THEN p_fields -> 'physical_symptoms' ELSE '[]'::jsonb END
                ) WITH ORDINALITY AS x (item, n)
            ) AS a
            WHERE jsonb_typeof(a.item) = 'string' AND char_length(a.item #>> '{}') <= 1000
            ORDER BY a.src, a.n
            LIMIT 100
        ) AS s;
        event_type := 'symptom';
        event_subtype := 'daily_checkin';
        event_data := jsonb_build_object('symptoms', symptoms, 'fields', groups -> 'symptom');
        RETURN NEXT;
    END IF;

    IF groups ? 'assessment' THEN
        event_type := 'assessment';
        event_subtype := 'phq4';
        event_data := jsonb_build_object('instrument', 'PHQ-4', 'fields', groups -> 'assessment');
        IF jsonb_typeof(p_fields -> 'phq4_score') = 'number' THEN
            event_data := event_data || jsonb_build_object('score', p_fields -> 'phq4_score');
        END IF;
        IF jsonb_typeof(p_fields -> 'phq4_anxiety') = 'number' THEN
            event_data := event_data || jsonb_build_object('anxiety', p_fields -> 'phq4_anxiety');
        END IF;
        IF jsonb_typeof(p_fields -> 'phq4_depression') = 'number' THEN
            event_data := event_data || jsonb_build_object('depression', p_fields -> 'phq4_depression');
        END IF;
        RETURN NEXT;
    END IF;
END
$$;

COMMENT ON FUNCTION core.checkin_payloads(jsonb, text) IS
'Split validated check-in fields into event payloads: mood/daily_checkin always (with extras); medication, '
'symptom (daily_checkin) and assessment (phq4) when one of their fields is given. Each event_data has its '
'type''s canonical keys and "fields": the V1 answers verbatim. The mood event also carries checkin_type.';

CREATE OR REPLACE FUNCTION core.checkin_existing(p_user_id uuid, p_date date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    existing jsonb;
BEGIN
    SELECT jsonb_build_object(
        'id', c.id,
        'mood_today', c.fields -> 'mood_today',
        'confidence_today', c.fields -> 'confidence_today',
        'date_submitted', to_char(c.date_submitted, 'YYYY-MM-DD')
    ) INTO existing
    FROM public.daily_checkins_legacy AS c
    WHERE c.user_id = p_user_id AND c.date_submitted = p_date;
    RETURN existing;
END
$$;

COMMENT ON FUNCTION core.checkin_existing(uuid, date) IS
'{id, mood_today, confidence_today, date_submitted} of the user''s live check-in on p_date, or NULL.';

CREATE OR REPLACE FUNCTION core.checkin_append(
    p_user_id uuid,
    p_checkin_id uuid,
    p_action text,
    p_event_type text,
    p_event_subtype text,
    p_event_data jsonb,
    p_occurred_at timestamptz,
    p_local_date date,
    p_related_event_id uuid DEFAULT NULL
)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog
AS $$
    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date,
        action, source, source_version, correlation_id, related_event_id
    ) VALUES (
        p_user_id, p_event_type, p_event_subtype, p_event_data, p_occurred_at, p_local_date,
        p_action, 'checkin_v1', 'v1-compat', p_checkin_id, p_related_event_id
    )
$$;

COMMENT ON FUNCTION core.checkin_append(uuid, uuid, text, text, text, jsonb, timestamptz, date, uuid) IS
'Append one event of check-in p_checkin_id (correlation_id; source checkin_v1, source_version v1-compat): '
'p_action record, or correct/retract of p_related_event_id.';

CREATE OR REPLACE FUNCTION core.checkin_create(
    p_user_id uuid, p_fields jsonb, p_date date, p_checkin_type text DEFAULT 'standard'
)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    v_now timestamptz := now();
    v_at timestamptz := core.checkin_occurred_at(p_user_id, p_date, v_now);
    inserted uuid;
    p record;
BEGIN
    -- The unique (user_id, local_date) decides between concurrent submissions: the loser waits for the
    -- winner's commit, inserts nothing, and reports the winner's check-in.
    INSERT INTO public.live_checkins AS c (id, user_id, local_date, checkin_type, created_at, updated_at)
    VALUES (v_id, p_user_id, p_date, coalesce(p_checkin_type, 'standard'), v_now, v_now)
    ON CONFLICT (user_id, local_date) DO NOTHING
    RETURNING c.id INTO inserted;
    IF inserted IS NULL THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for today. Please try again tomorrow.',
            'CHECKIN_EXISTS', jsonb_build_object('existing_checkin', core.checkin_existing(p_user_id, p_date)));
    END IF;

    FOR p IN SELECT * FROM core.checkin_payloads(p_fields, coalesce(p_checkin_type, 'standard')) LOOP
        -- The canonical keys obey their type's registry rules, like any V2 event ("fields" is the V1
        -- answers, already validated by core.validate_checkin, and may exceed the V2 size cap).
        PERFORM core.validate_event_data(p.event_type, p.event_data - 'fields');
        PERFORM core.checkin_append(p_user_id, v_id, 'record', p.event_type, p.event_subtype, p.event_data, v_at,
            p_date);
    END LOOP;

    -- Dual write: the legacy table gets the same check-in (same id), so V1 mode sees it. A legacy row already
    -- on that date (a V1-mode write not imported yet, or in flight) wins: 409, and nothing above is kept.
    IF NOT core.legacy_mirror(p_user_id, v_id) THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for today. Please try again tomorrow.',
            'CHECKIN_EXISTS', jsonb_build_object('existing_checkin', core.legacy_existing(p_user_id, p_date)));
    END IF;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION core.checkin_create(uuid, jsonb, date, text) IS
'Record a new check-in of validated fields on p_date: a live_checkins row and its events (correlation_id = '
'the new id, which is returned), and the same row in daily_checkins (dual write, not logged). NV409 '
'CHECKIN_EXISTS with existing_checkin when the date is taken in either.';

CREATE OR REPLACE FUNCTION core.checkin_correct(p_user_id uuid, p_id uuid, p_args jsonb)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    cur public.live_checkins;
    old_fields jsonb;
    new_fields jsonb;
    v_date date;
    v_type text;
    v_now timestamptz := now();
    v_at timestamptz;
    moved boolean;
    changed boolean := FALSE;
    p record;
    ev record;
BEGIN
    -- A V1-mode write to this check-in may be in flight on its legacy row: wait for it (row lock), then import
    -- it, so the partial update applies to the latest values.
    PERFORM 1 FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id FOR UPDATE;
    PERFORM core.sync_legacy_checkins(p_user_id);

    -- Lock the check-in: concurrent corrections and deletions of it run one after the other.
    SELECT c.* INTO cur
    FROM public.live_checkins AS c
    WHERE c.id = p_id AND c.user_id = p_user_id
    FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;

    -- Validate everything before writing anything: given fields replace, absent fields keep their value.
    SELECT c.fields INTO old_fields FROM public.daily_checkins_legacy AS c WHERE c.id = p_id;
    new_fields := core.validate_checkin(
        coalesce(old_fields, '{}'::jsonb) || core.validate_checkin(p_args, TRUE), FALSE
    );
    v_date := CASE
        WHEN jsonb_typeof(p_args -> 'date_submitted') IS DISTINCT FROM 'null'
            AND p_args ? 'date_submitted'
            THEN core.checkin_date(p_args -> 'date_submitted', p_user_id, v_now)
        ELSE cur.local_date
    END;
    v_type := coalesce(
        core.check_value('checkin_type', p_args -> 'checkin_type', 'string', NULL, NULL, 50, NULL, 1) #>> '{}',
        cur.checkin_type
    );
    moved := v_date <> cur.local_date;

    IF moved THEN
        BEGIN
            UPDATE public.live_checkins AS c SET local_date = v_date WHERE c.id = p_id;
        EXCEPTION WHEN unique_violation THEN
            PERFORM core.fail(409, 'You have already submitted a check-in for ' || to_char(v_date, 'YYYY-MM-DD')
                || '. Choose another date_submitted.', 'CHECKIN_EXISTS',
                jsonb_build_object('field', 'date_submitted',
                    'existing_checkin', core.checkin_existing(p_user_id, v_date)));
        END;
    END IF;

    -- Events of the group keep their occurred_at unless the date moved.
    SELECT e.occurred_at INTO v_at
    FROM public.health_events_live AS e
    WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1' AND e.event_type = 'mood'
    ORDER BY e.position DESC
    LIMIT 1;
    IF moved OR v_at IS NULL THEN
        v_at := core.checkin_occurred_at(p_user_id, v_date, v_now);
    END IF;

    FOR p IN SELECT * FROM core.checkin_payloads(new_fields, v_type) LOOP
        PERFORM core.validate_event_data(p.event_type, p.event_data - 'fields');
        SELECT e.id, e.event_data, e.occurred_at INTO ev
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type = p.event_type
        ORDER BY e.position DESC
        LIMIT 1;
        IF NOT FOUND THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'record', p.event_type, p.event_subtype, p.event_data, v_at,
                v_date);
            changed := TRUE;
        ELSIF moved OR ev.event_data IS DISTINCT FROM p.event_data THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'correct', p.event_type, p.event_subtype, p.event_data,
                CASE WHEN moved THEN v_at ELSE ev.occurred_at END, v_date, ev.id);
            changed := TRUE;
        END IF;
    END LOOP;

    IF changed THEN
        UPDATE public.live_checkins AS c SET updated_at = v_now, checkin_type = v_type WHERE c.id = p_id;
    END IF;

    -- Dual write (same transaction). The date can only be refused here by a legacy row not imported yet.
    IF NOT core.legacy_mirror(p_user_id, p_id) THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for ' || to_char(v_date, 'YYYY-MM-DD')
            || '. Choose another date_submitted.', 'CHECKIN_EXISTS',
            jsonb_build_object('field', 'date_submitted',
                'existing_checkin', core.legacy_existing(p_user_id, v_date)));
    END IF;
END
$$;

COMMENT ON FUNCTION core.checkin_correct(uuid, uuid, jsonb) IS
'Partially update check-in p_id with p_args (V1 PUT): validates, then appends a correct event (full new '
'payload) per event whose data or date changed and a record event per new group; updates live_checkins and '
'the daily_checkins row (dual write; a pending V1-mode write to it is imported first). NV404 unknown/other '
'user''s; NV400 invalid; NV409 CHECKIN_EXISTS when date_submitted moves onto a taken date.';

CREATE OR REPLACE FUNCTION core.checkin_retract(p_user_id uuid, p_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    ev record;
BEGIN
    -- As in checkin_correct: a V1-mode write in flight on the legacy row is waited for and imported first.
    PERFORM 1 FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id FOR UPDATE;
    PERFORM core.sync_legacy_checkins(p_user_id);

    DELETE FROM public.live_checkins AS c WHERE c.id = p_id AND c.user_id = p_user_id;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    FOR ev IN
        SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
        FROM public.health_events_live AS e
        WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
        ORDER BY e.position
    LOOP
        PERFORM core.checkin_append(p_user_id, p_id, 'retract', ev.event_type, ev.event_subtype, '{}'::jsonb,
            ev.occurred_at, ev.local_date, ev.id);
    END LOOP;
    -- Dual write: the legacy row goes too (not logged), so V1 mode no longer lists it.
    PERFORM core.legacy_delete(p_id, p_user_id, TRUE);
END
$$;

COMMENT ON FUNCTION core.checkin_retract(uuid, uuid) IS
'Delete check-in p_id (V1 DELETE): appends a retract event for each of its live events and deletes its '
'live_checkins row and its daily_checkins row (dual write), which frees the date. NV404 when the user has no '
'such live check-in.';
