-- Recording a new V1 check-in (POST /api/checkins): its live_checkins row, its events and its legacy row.

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
