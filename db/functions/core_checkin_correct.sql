-- Correcting a V1 check-in (PUT /api/checkins/{id}): the new state validated, then written as its row and as events.

CREATE OR REPLACE FUNCTION core.checkin_correct(p_user_id uuid, p_id uuid, p_args jsonb)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    cur public.daily_checkins;
    old_fields jsonb;
    new_fields jsonb;
    v_date date;
    v_type text;
    v_now timestamptz := now();
BEGIN
    -- Lock the check-in's row: concurrent corrections and deletions of it, from either mode, run one after the
    -- other. A V1-mode write to it that was in flight is committed once the lock is ours, and imported below, so
    -- the log has it before the correction is appended on top.
    PERFORM 1 FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(p_user_id);
    SELECT d.* INTO cur FROM public.daily_checkins AS d WHERE d.id = p_id;

    -- Validate everything before writing anything: given fields replace, absent fields keep their value.
    old_fields := core.legacy_fields(cur);
    new_fields := core.validate_checkin(old_fields || core.validate_checkin(p_args, TRUE), FALSE);
    v_date := CASE
        WHEN jsonb_typeof(p_args -> 'date_submitted') IS DISTINCT FROM 'null'
            AND p_args ? 'date_submitted'
            THEN core.checkin_date(p_args -> 'date_submitted', p_user_id, v_now)
        ELSE cur.date_submitted
    END;
    v_type := coalesce(
        core.check_value('checkin_type', p_args -> 'checkin_type', 'string', NULL, NULL, 50, NULL, 1) #>> '{}',
        cur.checkin_type
    );
    -- Nothing changes, nothing is written (updated_at stays): the same rule as V1 mode.
    IF new_fields IS NOT DISTINCT FROM old_fields AND v_date = cur.date_submitted AND v_type = cur.checkin_type THEN
        RETURN;
    END IF;

    -- The row (a taken date is refused here, race-safe: the unique (user_id, date_submitted)), then the events:
    -- their payloads obey their types' registry rules, like any V2 event ("fields" is the V1 answers, validated
    -- above, and may exceed the V2 size cap), and are brought to the new state (core.checkin_converge; events keep
    -- their occurred_at unless the date moved).
    IF NOT core.legacy_put(p_id, p_user_id, v_date, v_type, cur.created_at, v_now, new_fields, TRUE) THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for ' || to_char(v_date, 'YYYY-MM-DD')
            || '. Choose another date_submitted.', 'CHECKIN_EXISTS',
            jsonb_build_object('field', 'date_submitted',
                'existing_checkin', core.legacy_existing(p_user_id, v_date)));
    END IF;
    PERFORM core.validate_event_data(p.event_type, p.event_data - 'fields')
    FROM core.checkin_payloads(new_fields, v_type) AS p;
    PERFORM core.checkin_converge(p_user_id, p_id, new_fields, v_type, v_date, v_now, v_now);
END
$$;

COMMENT ON FUNCTION core.checkin_correct(uuid, uuid, jsonb) IS
'Partially update check-in p_id with p_args (V1 PUT): validates, then writes the new state to its daily_checkins '
'row (updated_at = now; not logged as a V1-mode change) and brings its events to it (core.checkin_converge: a '
'correct event per event whose data or date changed, a record event per new group); nothing when nothing changes. '
'A pending V1-mode write to the row is imported first. NV404 unknown/other user''s; NV400 invalid; NV409 '
'CHECKIN_EXISTS when date_submitted moves onto a taken date.';
