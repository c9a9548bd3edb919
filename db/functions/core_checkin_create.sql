-- Recording a new V1 check-in (POST /api/checkins): its row in the read model, then its events.

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
    p record;
    events public.health_events[] := '{}';
BEGIN
    -- The row first: the unique (user_id, date_submitted) of daily_checkins decides between concurrent submissions
    -- of either mode (the loser waits for the winner's commit, writes nothing, and reports the winner's check-in).
    IF NOT core.legacy_put(v_id, p_user_id, p_date, p_checkin_type, v_now, v_now, p_fields, TRUE) THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for today. Please try again tomorrow.',
            'CHECKIN_EXISTS', jsonb_build_object('existing_checkin', core.legacy_existing(p_user_id, p_date)));
    END IF;

    FOR p IN SELECT * FROM core.checkin_payloads(p_fields, coalesce(p_checkin_type, 'standard')) LOOP
        -- The canonical keys obey their type's registry rules, like any V2 event ("fields" is the V1
        -- answers, already validated by core.validate_checkin, and may exceed the V2 size cap).
        PERFORM core.validate_event_data(p.event_type, p.event_data - 'fields');
        events := events || core.checkin_event(p_user_id, v_id, 'record', p.event_type, p.event_subtype,
            p.event_data, v_at, p_date);
    END LOOP;
    PERFORM core.checkin_append(events);
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION core.checkin_create(uuid, jsonb, date, text) IS
'Record a new check-in of validated fields on p_date: its daily_checkins row (the read model; not logged as a '
'V1-mode change) and its events (correlation_id = the new id, which is returned), in one transaction. NV409 '
'CHECKIN_EXISTS with existing_checkin when the user has a check-in on p_date.';
