-- Correcting a V1 check-in (PUT /api/checkins/{id}): the new state validated, then written as events.

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
    moved boolean;
    changed boolean;
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

    -- The payloads obey their types' registry rules, like any V2 event ("fields" is the V1 answers, validated
    -- above, and may exceed the V2 size cap); then the events are brought to the new state. Events keep their
    -- occurred_at unless the date moved.
    PERFORM core.validate_event_data(p.event_type, p.event_data - 'fields')
    FROM core.checkin_payloads(new_fields, v_type) AS p;
    changed := core.checkin_converge(p_user_id, p_id, new_fields, v_type, v_date, v_now, v_now);

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
'Partially update check-in p_id with p_args (V1 PUT): validates, then brings its events to the new state '
'(core.checkin_converge: a correct event per event whose data or date changed, a record event per new group); '
'updates live_checkins and the daily_checkins row (dual write; a pending V1-mode write to it is imported first). '
'NV404 unknown/other user''s; NV400 invalid; NV409 CHECKIN_EXISTS when date_submitted moves onto a taken date.';
