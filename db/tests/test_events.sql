-- V2 events: registry validation, api.create_event (idempotency, corrections, retractions, time rules).

-- The event created by api.create_event(args) under the current claims.
CREATE OR REPLACE FUNCTION tests.ev_create(args jsonb)
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT api.create_event(args) -> 'event'
$$;

CREATE OR REPLACE FUNCTION tests.test_registry_accepts_valid_data_of_every_type()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    samples jsonb := '{
        "mood": {"mood": "hopeful, anxious", "confidence": 7, "anxiety": 3, "note": "ok"},
        "medication": {"status": "partial", "medication": "Gonal-F", "dose": "150 IU", "missed_doses": 1,
                       "injection_confidence": 6},
        "symptom": {"symptoms": ["bloating", "headache"], "severity": 4},
        "assessment": {"instrument": "PHQ-4", "score": 5.5},
        "vital": {"kind": "temperature", "value": 36.7, "unit": "C"},
        "treatment": {"name": "retrieval", "stage": "retrieval"},
        "appointment": {"kind": "scan", "scheduled_for": "2026-12-01T09:00:00Z", "anxiety": 8},
        "note": {"text": "A long day."},
        "sleep": {"hours": 7.5, "quality": 6},
        "exercise": {"activity": "walk", "minutes": 30, "intensity": "low"},
        "daily_checkin_completed": {"mood": "hopeful, anxious", "confidence": 7, "note": "Quick check-in"}
    }';
    t text;
BEGIN
    -- every registered type has a sample, and each sample passes unchanged
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.event_types WHERE NOT samples ? event_type), 0::bigint,
        'a sample for every registered type'
    );
    FOR t IN SELECT event_type FROM public.event_types ORDER BY event_type LOOP
        PERFORM tests.assert_json_eq(core.validate_event_data(t, samples -> t), samples -> t, t);
    END LOOP;
    -- keys the rules do not list are kept verbatim; integer strings are normalised to numbers
    PERFORM tests.assert_json_eq(
        core.validate_event_data('mood', '{"mood": "good", "confidence": "8", "extra": {"x": [1]}}'),
        '{"mood": "good", "confidence": 8, "extra": {"x": [1]}}', 'normalised'
    );
    -- an optional key may be null (not answered)
    PERFORM tests.assert_json_eq(
        core.validate_event_data('sleep', '{"hours": 0, "quality": null}'), '{"hours": 0, "quality": null}'
    );
END
$$;

-- The web app's V2 client posts {"event_type": "daily_checkin_completed", "event_data": {mood, confidence, note}}
-- after each check-in (note undefined when the check-in had none, so absent).
CREATE OR REPLACE FUNCTION tests.test_daily_checkin_completed_is_registered()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    ev jsonb;
BEGIN
    ev := api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"mood": "hopeful", "confidence": 7, "note": "Quick check-in: Took all medications"}}') -> 'event';
    PERFORM tests.assert_eq(ev ->> 'event_type', 'daily_checkin_completed');
    PERFORM tests.assert_eq(ev ->> 'user_id', uid::text);
    PERFORM tests.assert_eq(ev ->> 'created_at', ev ->> 'recorded_at', 'created_at is the recording instant');
    PERFORM tests.assert_eq(api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"mood": "tired", "confidence": "4"}}') #>> '{event,event_data}',
        '{"mood": "tired", "confidence": 4}', 'note optional; an integer string normalised');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"confidence": 7}}')$q$, 'NV400', 'event_data.mood is required');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"mood": "ok"}}')$q$, 'NV400', 'event_data.confidence is required');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"mood": "ok", "confidence": 11}}')$q$, 'NV400', 'event_data.confidence must be between 1 and 10');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "daily_checkin_completed",
        "event_data": {"mood": "ok", "confidence": 5, "note": 3}}')$q$, 'NV400', 'event_data.note must be a string');
    -- the event is not a check-in: no window counts it
    PERFORM tests.assert_eq(api.user_metrics() #>> '{metrics,totalCheckIns}', '0');
    PERFORM tests.assert_eq(api.today_checkin() ->> 'hasCheckedIn', 'false');
    -- an unknown type names the registered ones
    PERFORM tests.assert_eq(tests.error_of($q$SELECT api.create_event('{"event_type": "weather",
        "event_data": {}}')$q$) #> '{detail,allowed}', (SELECT jsonb_agg(t.event_type ORDER BY t.event_type)
        FROM public.event_types AS t));
    PERFORM tests.assert_true(tests.error_of($q$SELECT api.create_event('{"event_type": "weather",
        "event_data": {}}')$q$) #> '{detail,allowed}' ? 'daily_checkin_completed');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_registry_refuses_invalid_data()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    big text := repeat('x', 4000);
BEGIN
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('weather', '{}')$q$, 'NV400',
        'Unknown event_type: weather');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '["hopeful"]')$q$, 'NV400',
        'event_data must be an object');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '"hopeful"')$q$, 'NV400',
        'event_data must be an object');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', NULL)$q$, 'NV400',
        'event_data must be an object');
    -- required keys (absent or null)
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"confidence": 5}')$q$, 'NV400',
        'event_data.mood is required');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('medication', '{"status": null}')$q$, 'NV400',
        'event_data.status is required');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('vital', '{"kind": "weight"}')$q$, 'NV400',
        'event_data.value is required');
    -- wrong types
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"mood": 5}')$q$, 'NV400',
        'event_data.mood must be a string');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"mood": "ok", "confidence": 7.5}')$q$,
        'NV400', 'event_data.confidence must be an integer');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('vital', '{"kind": "w", "value": "70"}')$q$,
        'NV400', 'event_data.value must be a number');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('symptom', '{"symptoms": "headache"}')$q$,
        'NV400', 'event_data.symptoms must be an array');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('symptom', '{"symptoms": ["a", 1]}')$q$,
        'NV400', 'event_data.symptoms must be an array of strings');
    -- enum
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('medication', '{"status": "forgot"}')$q$,
        'NV400', 'event_data.status must be one of: taken, missed, skipped, partial%');
    PERFORM tests.assert_raises(
        $q$SELECT core.validate_event_data('exercise', '{"activity": "run", "intensity": "extreme"}')$q$,
        'NV400', 'event_data.intensity must be one of: low, moderate, high'
    );
    -- ranges and lengths
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"mood": "ok", "confidence": 11}')$q$,
        'NV400', 'event_data.confidence must be between 1 and 10');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"mood": "ok", "anxiety": 0}')$q$,
        'NV400', 'event_data.anxiety must be between 1 and 10');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('sleep', '{"hours": 25}')$q$,
        'NV400', 'event_data.hours must be between 0 and 24');
    PERFORM tests.assert_raises($q$SELECT core.validate_event_data('mood', '{"mood": "   "}')$q$,
        'NV400', 'event_data.mood must not be empty');
    PERFORM tests.assert_raises(
        format('SELECT core.validate_event_data(%L, %L)', 'mood', jsonb_build_object('mood', repeat('a', 101))),
        'NV400', 'event_data.mood must be at most 100 characters'
    );
    -- size limits: 65 keys, or more than 16 KiB
    PERFORM tests.assert_raises(
        format('SELECT core.validate_event_data(%L, %L)', 'note',
            (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 64) AS g) || '{"text": "t"}'),
        'NV413', 'event_data has too many keys (max 64)'
    );
    PERFORM tests.assert_raises(
        format('SELECT core.validate_event_data(%L, %L)', 'note',
            jsonb_build_object('text', 'x', 'a', big, 'b', big, 'c', big, 'd', big, 'e', big)),
        'NV413', 'event_data is too large (max 16 KiB)'
    );
    -- 64 keys and just under 16 KiB pass
    PERFORM core.validate_event_data('note',
        (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 63) AS g) || '{"text": "t"}');
    PERFORM core.validate_event_data('note', jsonb_build_object('text', 'x', 'a', big, 'b', big, 'c', big, 'd', big));
END
$$;

CREATE OR REPLACE FUNCTION tests.test_error_details_name_the_field()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d text;
    st text;
BEGIN
    BEGIN
        PERFORM core.validate_event_data('mood', '{"mood": "ok", "confidence": 0}');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
    END;
    PERFORM tests.assert_eq(st, 'NV400');
    PERFORM tests.assert_json_eq(d::jsonb, '{"code": "VALIDATION_ERROR", "field": "event_data.confidence"}');
    BEGIN
        PERFORM core.validate_event_data('nope', '{}');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    END;
    PERFORM tests.assert_json_eq(d::jsonb - 'allowed', '{"code": "VALIDATION_ERROR", "field": "event_type"}');
    PERFORM tests.assert_eq(jsonb_typeof(d::jsonb -> 'allowed'), 'array', 'and the registered types');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_adding_a_type_is_an_insert()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ev jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "meditation", "event_data": {"minutes": 10}}')$q$,
        'NV400', 'Unknown event_type: meditation'
    );
    INSERT INTO public.event_types (event_type, description, rules) VALUES (
        'meditation', 'Mindfulness practice.',
        '{"required": ["minutes"], "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 600},
          "style": {"type": "string", "enum": ["breath", "body_scan"]}}}'
    );
    ev := tests.ev_create('{"event_type": "meditation", "event_data": {"minutes": "15", "style": "breath"}}');
    PERFORM tests.assert_eq(ev ->> 'event_type', 'meditation');
    PERFORM tests.assert_json_eq(ev -> 'event_data', '{"minutes": 15, "style": "breath"}');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "meditation", "event_data": {"minutes": 0}}')$q$,
        'NV400', 'event_data.minutes must be between 1 and 600'
    );
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "meditation", "event_data": {"minutes": 5, "style": "x"}}')$q$,
        'NV400', 'event_data.style must be one of: breath, body_scan'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_create_event_shape_and_defaults()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    res jsonb;
    ev jsonb;
    r public.health_events;
BEGIN
    PERFORM tests.as_user('ANN@example.com ');
    res := api.create_event('{"event_type": "mood", "event_subtype": "quick_check",
        "event_data": {"mood": "confident", "confidence": 9, "note": "Great day!"}, "user_id": "ignored"}');
    PERFORM tests.assert_eq(res ->> 'success', 'true');
    PERFORM tests.assert_eq(res ->> 'schema_version', 'v2');
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'a new event keeps the route''s status (201)');
    ev := res -> 'event';
    SELECT e.* INTO r FROM public.health_events AS e WHERE e.id = (ev ->> 'id')::uuid;
    PERFORM tests.assert_eq(r.user_id, uid, 'stored for the caller');
    PERFORM tests.assert_json_eq(ev, jsonb_build_object(
        'id', r.id, 'user_id', uid, 'event_type', 'mood', 'event_subtype', 'quick_check',
        'event_data', '{"mood": "confident", "confidence": 9, "note": "Great day!"}'::jsonb,
        'occurred_at', core.iso(now()), 'local_date', (now() AT TIME ZONE 'America/Los_Angeles')::date::text,
        'recorded_at', core.iso(r.recorded_at), 'created_at', core.iso(r.recorded_at), 'source', 'api_v2',
        'correlation_id', NULL, 'related_event_id', NULL, 'action', 'record'
    ));
    PERFORM tests.assert_eq(r.occurred_at, now(), 'occurred_at defaults to now');
    PERFORM tests.assert_eq(r.source_version, 'v2');
    PERFORM tests.assert_true(r.idempotency_key IS NULL AND r.request_hash IS NULL);

    -- explicit occurred_at with an offset, and a correlation id
    ev := tests.ev_create('{"event_type": "sleep", "event_data": {"hours": 6},
        "occurred_at": "2026-05-01T08:15:00.250+02:00", "correlation_id": "0b9c1a4e-1111-4c4c-9d9d-123456789abc"}');
    PERFORM tests.assert_eq(ev ->> 'occurred_at', '2026-05-01T06:15:00.250+00:00');
    PERFORM tests.assert_eq(ev ->> 'local_date', '2026-04-30');
    PERFORM tests.assert_eq(ev ->> 'correlation_id', '0b9c1a4e-1111-4c4c-9d9d-123456789abc');
    PERFORM tests.assert_eq(ev ->> 'event_subtype', NULL);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_create_event_refuses_bad_input_and_writes_nothing()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"}}')$q$,
        'NV401', 'Access token required');
    PERFORM tests.as_user('ghost@example.com');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"}}')$q$,
        'NV404', 'User not found');

    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_data": {"text": "x"}}')$q$,
        'NV400', 'event_type is required');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": 3, "event_data": {"text": "x"}}')$q$,
        'NV400', 'event_type must be a string');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "diet", "event_data": {}}')$q$,
        'NV400', 'Unknown event_type: diet');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "note"}')$q$,
        'NV400', 'event_data must be an object');
    PERFORM tests.assert_raises($q$SELECT api.create_event('{"event_type": "note", "event_data": []}')$q$,
        'NV400', 'event_data must be an object');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"}, "action": "delete"}')$q$,
        'NV400', 'action must be one of: record, correct, retract');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"}, "correlation_id": "abc"}')$q$,
        'NV400', 'correlation_id must be a UUID');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"}, "related_event_id": "1"}')$q$,
        'NV400', 'related_event_id must be a UUID');
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('event_type', 'note', 'event_data',
            '{"text": "x"}'::jsonb, 'event_subtype', repeat('s', 51))),
        'NV400', 'event_subtype must be at most 50 characters');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"},
            "occurred_at": "yesterday"}')$q$,
        'NV400', 'occurred_at must be an ISO 8601 instant%');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"},
            "occurred_at": "2026-05-01T10:00:00"}')$q$,
        'NV400', 'occurred_at must be an ISO 8601 instant%');
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('event_type', 'note', 'event_data',
            '{"text": "x"}'::jsonb, 'occurred_at', core.iso(now() + interval '24 hours 1 second'))),
        'NV400', 'occurred_at cannot be more than 24 hours in the future');
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"event_type": "note", "event_data": {"text": "x"},
            "occurred_at": "1999-12-31T23:59:59Z"}')$q$,
        'NV400', 'occurred_at must not be before 2000-01-01');
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('event_type', 'note', 'event_data',
            '{"text": "x"}'::jsonb, 'idempotency_key', repeat('k', 201))),
        'NV400', 'Idempotency-Key must be 1 to 200 characters');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 0::bigint, 'nothing written');

    -- the edges that pass: 23 h 59 min ahead, 2000-01-01 itself, a 200-character key
    PERFORM api.create_event(jsonb_build_object('event_type', 'note', 'event_data', '{"text": "x"}'::jsonb,
        'occurred_at', core.iso(now() + interval '23 hours 59 minutes')));
    PERFORM api.create_event(
        '{"event_type": "note", "event_data": {"text": "x"}, "occurred_at": "2000-01-01T00:00:00Z"}'
    );
    PERFORM api.create_event(jsonb_build_object('event_type', 'note', 'event_data', '{"text": "x"}'::jsonb,
        'idempotency_key', repeat('k', 200)));
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 3::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_idempotent_create()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    body jsonb := '{"event_type": "medication", "event_data": {"status": "taken"},
        "occurred_at": "2026-11-20T10:00:00Z", "idempotency_key": "k-1"}';
    first jsonb;
    again jsonb;
    other jsonb;
    d text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.as_user('ann@example.com');
    first := api.create_event(body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer);
    -- same key, same body (keys in another order): the original event, status 200
    again := api.create_event('{"idempotency_key": "k-1", "occurred_at": "2026-11-20T10:00:00Z",
        "event_data": {"status": "taken"}, "event_type": "medication"}');
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(again -> 'event', first -> 'event', 'the original event');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 1::bigint);
    PERFORM tests.assert_eq(
        (SELECT request_hash FROM public.health_events), md5((body - 'idempotency_key')::text), 'request hash'
    );
    -- same key, other body: 409
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_set(body, '{event_data,status}', '"missed"')),
        'NV409', 'Idempotency-Key reuse with a different request'
    );
    BEGIN
        PERFORM api.create_event(body - 'occurred_at');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    END;
    PERFORM tests.assert_eq(d::jsonb ->> 'code', 'IDEMPOTENCY_CONFLICT');
    -- another key writes another event; the same key of another user is that user's own
    other := api.create_event(jsonb_set(body, '{idempotency_key}', '"k-2"'));
    PERFORM tests.assert_true(other -> 'event' ->> 'id' <> first -> 'event' ->> 'id');
    PERFORM tests.as_user('bob@example.com');
    other := api.create_event(body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'bob''s first use of k-1 creates');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events WHERE idempotency_key = 'k-1'), 2::bigint
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_correction_semantics()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    orig jsonb;
    fixed jsonb;
    ann_rec jsonb;
    bob_ev jsonb;
    d text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.make_user('bob@example.com');
    bob_ev := tests.ev_create('{"event_type": "mood", "event_data": {"mood": "sad"}}');

    PERFORM tests.as_user('ann@example.com');
    orig := tests.ev_create('{"event_type": "mood", "event_subtype": "quick_check",
        "event_data": {"mood": "tired", "confidence": 4}, "occurred_at": "2026-11-20T06:30:00Z",
        "correlation_id": "0b9c1a4e-1111-4c4c-9d9d-123456789abc"}');
    fixed := tests.ev_create(jsonb_build_object('action', 'correct', 'related_event_id', orig ->> 'id',
        'event_type', 'mood', 'event_data', '{"mood": "hopeful", "confidence": 6}'::jsonb));
    PERFORM tests.assert_eq(fixed ->> 'action', 'correct');
    PERFORM tests.assert_eq(fixed ->> 'related_event_id', orig ->> 'id');
    -- what the correction leaves out is the original's: it happened then, on that local day
    PERFORM tests.assert_eq(fixed ->> 'occurred_at', '2026-11-20T06:30:00.000+00:00');
    PERFORM tests.assert_eq(fixed ->> 'local_date', '2026-11-19');
    PERFORM tests.assert_eq(fixed ->> 'event_subtype', 'quick_check');
    PERFORM tests.assert_eq(fixed ->> 'correlation_id', '0b9c1a4e-1111-4c4c-9d9d-123456789abc');
    PERFORM tests.assert_eq(
        (SELECT array_agg(id::text ORDER BY position) FROM public.health_events_live),
        ARRAY[bob_ev ->> 'id', fixed ->> 'id'], 'the original is no longer live'
    );

    -- the original is superseded: a second correction of it is a conflict
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            orig ->> 'id', 'event_type', 'mood', 'event_data', '{"mood": "calm"}'::jsonb)),
        'NV409', 'Event has already been corrected or retracted'
    );
    BEGIN
        PERFORM api.create_event(jsonb_build_object('action', 'retract', 'related_event_id', orig ->> 'id'));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    END;
    PERFORM tests.assert_json_eq(d::jsonb, jsonb_build_object('code', 'CONFLICT', 'field', 'related_event_id',
        'superseded_by', fixed ->> 'id'));
    -- a correction keeps the type, and is validated against it
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            fixed ->> 'id', 'event_type', 'note', 'event_data', '{"text": "x"}'::jsonb)),
        'NV400', 'A correction must have the same event_type as the event it corrects'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            fixed ->> 'id', 'event_data', '{"confidence": 6}'::jsonb)),
        'NV400', 'event_data.mood is required'
    );
    PERFORM tests.assert_raises(
        $q$SELECT api.create_event('{"action": "correct", "event_type": "mood", "event_data": {"mood": "ok"}}')$q$,
        'NV400', 'related_event_id is required when action is correct'
    );
    -- another user's event, or one that does not exist: 404
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            bob_ev ->> 'id', 'event_type', 'mood', 'event_data', '{"mood": "ok"}'::jsonb)),
        'NV404', 'Event not found'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            gen_random_uuid(), 'event_type', 'mood', 'event_data', '{"mood": "ok"}'::jsonb)),
        'NV404', 'Event not found'
    );
    -- a record may link to one of the caller's events (live or not), never to another user's
    ann_rec := tests.ev_create(jsonb_build_object('event_type', 'note', 'event_data', '{"text": "see above"}'::jsonb,
        'related_event_id', orig ->> 'id'));
    PERFORM tests.assert_eq(ann_rec ->> 'related_event_id', orig ->> 'id');
    PERFORM tests.assert_eq(ann_rec ->> 'action', 'record');
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('event_type', 'note', 'event_data',
            '{"text": "x"}'::jsonb, 'related_event_id', bob_ev ->> 'id')),
        'NV404', 'Event not found'
    );
    -- a linking record does not supersede: the correction can still be corrected
    PERFORM tests.ev_create(jsonb_build_object('action', 'correct', 'related_event_id', fixed ->> 'id',
        'event_data', '{"mood": "calm", "confidence": 7}'::jsonb, 'occurred_at', '2026-11-21T12:00:00Z'));
    PERFORM tests.assert_eq(
        (SELECT event_data ->> 'mood' || ' ' || local_date FROM public.health_events_live WHERE event_type = 'mood'
            AND user_id <> (bob_ev ->> 'user_id')::uuid),
        'calm 2026-11-21', 'a given occurred_at sets the local date of the correction'
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 5::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_retraction_semantics()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ev jsonb;
    ret jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    ev := tests.ev_create('{"event_type": "symptom", "event_data": {"symptoms": ["cramps"]}}');
    -- a retraction's data is {} or {"reason": string}
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'retract', 'related_event_id',
            ev ->> 'id', 'event_data', '{"symptoms": []}'::jsonb)),
        'NV400', 'A retraction''s event_data may only hold a reason%'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'retract', 'related_event_id',
            ev ->> 'id', 'event_data', '{"reason": 5}'::jsonb)),
        'NV400', 'A retraction''s event_data may only hold a reason%'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'retract', 'related_event_id',
            ev ->> 'id', 'event_type', 'mood')),
        'NV400', 'A retraction must have the same event_type as the event it retracts'
    );
    ret := tests.ev_create(jsonb_build_object('action', 'retract', 'related_event_id', ev ->> 'id',
        'event_data', '{"reason": "entered twice"}'::jsonb));
    PERFORM tests.assert_eq(ret ->> 'action', 'retract');
    PERFORM tests.assert_eq(ret ->> 'event_type', 'symptom', 'type inherited');
    PERFORM tests.assert_json_eq(ret -> 'event_data', '{"reason": "entered twice"}');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events_live), 0::bigint, 'nothing live');
    -- retracted: no second retraction or correction; a retraction itself cannot be superseded
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)',
            jsonb_build_object('action', 'retract', 'related_event_id', ev ->> 'id')),
        'NV409', 'Event has already been corrected or retracted'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'correct', 'related_event_id',
            ev ->> 'id', 'event_data', '{"symptoms": ["x"]}'::jsonb)),
        'NV409', 'Event has already been corrected or retracted'
    );
    PERFORM tests.assert_raises(
        format('SELECT api.create_event(%L)', jsonb_build_object('action', 'retract', 'related_event_id',
            ret ->> 'id')),
        'NV409', 'A retraction cannot be corrected or retracted'
    );
    -- an empty retraction body is fine
    ev := tests.ev_create('{"event_type": "note", "event_data": {"text": "oops"}}');
    ret := tests.ev_create(jsonb_build_object('action', 'retract', 'related_event_id', ev ->> 'id'));
    PERFORM tests.assert_json_eq(ret -> 'event_data', '{}');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 4::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_local_date_follows_the_user_timezone()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    cases jsonb := '[
        ["2026-05-01T06:59:59Z", "2026-04-30"],
        ["2026-05-01T07:00:00Z", "2026-05-01"],
        ["2026-03-08T07:30:00Z", "2026-03-07"],
        ["2026-03-09T07:30:00Z", "2026-03-09"],
        ["2026-11-01T07:30:00Z", "2026-11-01"],
        ["2026-11-02T07:30:00Z", "2026-11-01"],
        ["2026-11-01T23:30:00-08:00", "2026-11-01"]
    ]';
    c jsonb;
    ev jsonb;
BEGIN
    -- Los Angeles: UTC-8 in winter, UTC-7 from 2026-03-08 to 2026-11-01 (both switches at 2:00 local)
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.make_user('kenji@example.com', 'Asia/Tokyo');
    PERFORM tests.as_user('ann@example.com');
    FOR c IN SELECT jsonb_array_elements(cases) LOOP
        ev := tests.ev_create(jsonb_build_object('event_type', 'note', 'event_data', '{"text": "t"}'::jsonb,
            'occurred_at', c ->> 0));
        PERFORM tests.assert_eq(ev ->> 'local_date', c ->> 1, c ->> 0);
    END LOOP;
    -- the same instant is another day in Tokyo (UTC+9)
    PERFORM tests.as_user('kenji@example.com');
    ev := tests.ev_create('{"event_type": "note", "event_data": {"text": "t"}, "occurred_at": "2026-05-01T15:30:00Z"}');
    PERFORM tests.assert_eq(ev ->> 'local_date', '2026-05-02');
    -- a profile change of timezone applies to later events
    UPDATE public.user_profiles SET timezone = 'Europe/London'
    WHERE user_id = (SELECT id FROM public.users WHERE email = 'kenji@example.com');
    ev := tests.ev_create('{"event_type": "note", "event_data": {"text": "t"}, "occurred_at": "2026-05-01T23:30:00Z"}');
    PERFORM tests.assert_eq(ev ->> 'local_date', '2026-05-02', 'BST is UTC+1');
END
$$;
