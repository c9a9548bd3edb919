-- POST /api/v2/health/events: append one event (record, correct or retract) to the caller's log.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.create_event(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid;
    v_key text;
    v_hash text;
    v_replay jsonb;
    v_action text;
    v_type text;
    v_subtype text;
    v_corr uuid;
    v_rel uuid;
    v_occurred timestamptz;
    v_local date;
    v_data jsonb;
    v_orig public.health_events;
    v_new public.health_events;
    v_superseder uuid;
BEGIN
    uid := core.require_user();
    args := coalesce(args, '{}'::jsonb);
    IF jsonb_typeof(args) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;

    -- Idempotency: a key already used by this user replays (same body) or conflicts (other body).
    IF coalesce(jsonb_typeof(args -> 'idempotency_key'), 'null') <> 'null' THEN
        IF jsonb_typeof(args -> 'idempotency_key') <> 'string'
            OR char_length(args ->> 'idempotency_key') NOT BETWEEN 1 AND 200 THEN
            PERFORM core.fail(400, 'Idempotency-Key must be 1 to 200 characters', 'VALIDATION_ERROR',
                jsonb_build_object('field', 'idempotency_key'));
        END IF;
        v_key := args ->> 'idempotency_key';
        v_hash := md5((args - 'idempotency_key')::text);
        v_replay := core.event_replay(uid, v_key, v_hash);
        IF v_replay IS NOT NULL THEN
            RETURN v_replay;
        END IF;
    END IF;

    -- Shape of every input.
    v_action := coalesce(
        core.check_value('action', args -> 'action', 'enum', allowed => ARRAY['record', 'correct', 'retract'])
        #>> '{}',
        'record'
    );
    v_type := core.check_value('event_type', args -> 'event_type', 'string', max_length => 40) #>> '{}';
    IF v_type IS NULL AND v_action = 'record' THEN
        PERFORM core.fail(400, 'event_type is required', 'VALIDATION_ERROR', jsonb_build_object('field', 'event_type'));
    END IF;
    v_subtype := core.check_value('event_subtype', args -> 'event_subtype', 'string', max_length => 50) #>> '{}';

    v_corr := core.parse_uuid(
        core.check_value('correlation_id', args -> 'correlation_id', 'string') #>> '{}', 'correlation_id'
    );
    v_rel := core.parse_uuid(
        core.check_value('related_event_id', args -> 'related_event_id', 'string') #>> '{}', 'related_event_id'
    );
    IF v_rel IS NULL AND v_action <> 'record' THEN
        PERFORM core.fail(400, 'related_event_id is required when action is ' || v_action, 'VALIDATION_ERROR',
            jsonb_build_object('field', 'related_event_id'));
    END IF;

    v_occurred := core.parse_instant(core.check_value('occurred_at', args -> 'occurred_at', 'string') #>> '{}',
        'occurred_at');
    IF v_occurred > now() + interval '24 hours' THEN
        PERFORM core.fail(400, 'occurred_at cannot be more than 24 hours in the future', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'occurred_at'));
    END IF;
    IF v_occurred < '2000-01-01T00:00:00Z'::timestamptz THEN
        PERFORM core.fail(400, 'occurred_at must not be before 2000-01-01', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'occurred_at'));
    END IF;

    -- The related event: one of the caller's events; for correct/retract a live one.
    IF v_rel IS NOT NULL THEN
        SELECT e.* INTO v_orig FROM public.health_events AS e WHERE e.id = v_rel AND e.user_id = uid;
        IF NOT FOUND THEN
            PERFORM core.fail(404, 'Event not found', 'NOT_FOUND', jsonb_build_object('field', 'related_event_id'));
        END IF;
    END IF;
    IF v_action <> 'record' THEN
        IF v_orig.action = 'retract' THEN
            PERFORM core.fail(409, 'A retraction cannot be corrected or retracted', 'CONFLICT',
                jsonb_build_object('field', 'related_event_id'));
        END IF;
        SELECT s.id INTO v_superseder FROM public.health_events AS s
        WHERE s.related_event_id = v_rel AND s.action <> 'record';
        IF FOUND THEN
            PERFORM core.fail(409, 'Event has already been corrected or retracted', 'CONFLICT',
                jsonb_build_object('field', 'related_event_id', 'superseded_by', v_superseder));
        END IF;
        IF v_type IS NOT NULL AND v_type <> v_orig.event_type THEN
            PERFORM core.fail(400,
                CASE WHEN v_action = 'correct'
                    THEN 'A correction must have the same event_type as the event it corrects'
                    ELSE 'A retraction must have the same event_type as the event it retracts' END,
                'VALIDATION_ERROR', jsonb_build_object('field', 'event_type'));
        END IF;
        -- What the body leaves out is inherited from the event being replaced (it happened then).
        v_type := v_orig.event_type;
        IF NOT args ? 'event_subtype' THEN
            v_subtype := v_orig.event_subtype;
        END IF;
        IF NOT args ? 'correlation_id' THEN
            v_corr := v_orig.correlation_id;
        END IF;
        IF v_occurred IS NULL THEN
            v_occurred := v_orig.occurred_at;
            v_local := v_orig.local_date;
        END IF;
    END IF;

    -- The payload.
    IF v_action = 'retract' THEN
        v_data := coalesce(nullif(args -> 'event_data', 'null'::jsonb), '{}'::jsonb);
        IF jsonb_typeof(v_data) <> 'object' OR (v_data - 'reason') <> '{}'::jsonb
            OR coalesce(jsonb_typeof(v_data -> 'reason'), 'string') <> 'string'
            OR char_length(v_data ->> 'reason') > 1000 THEN
            PERFORM core.fail(400,
                'A retraction''s event_data may only hold a reason (a string of at most 1000 characters)',
                'VALIDATION_ERROR', jsonb_build_object('field', 'event_data'));
        END IF;
    ELSE
        v_data := core.validate_event_data(v_type, args -> 'event_data');
    END IF;

    v_occurred := coalesce(v_occurred, now());
    v_local := coalesce(v_local, core.local_date(uid, v_occurred));

    BEGIN
        INSERT INTO public.health_events (
            user_id, event_type, event_subtype, event_data, occurred_at, local_date, action,
            correlation_id, related_event_id, idempotency_key, request_hash
        ) VALUES (
            uid, v_type, v_subtype, v_data, v_occurred, v_local, v_action,
            v_corr, v_rel, v_key, v_hash
        )
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING * INTO v_new;
    EXCEPTION WHEN unique_violation THEN
        -- A concurrent request superseded the same event first (health_events_superseded_once).
        v_new := NULL;
        IF v_key IS NULL THEN
            PERFORM core.fail(409, 'Event has already been corrected or retracted', 'CONFLICT',
                jsonb_build_object('field', 'related_event_id'));
        END IF;
    END;

    IF v_new.id IS NULL THEN
        -- Lost a race on the same Idempotency-Key (or on the superseded event with a key): read the winner.
        v_replay := core.event_replay(uid, v_key, v_hash);
        IF v_replay IS NULL THEN
            PERFORM core.fail(409, 'Event has already been corrected or retracted', 'CONFLICT',
                jsonb_build_object('field', 'related_event_id'));
        END IF;
        RETURN v_replay;
    END IF;

    RETURN jsonb_build_object('success', TRUE, 'event', core.event_json(v_new), 'schema_version', 'v2');
END
$$;

ALTER FUNCTION api.create_event(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.create_event(jsonb) IS
'POST /api/v2/health/events. args {event_type, event_subtype?, event_data, occurred_at? (default now, <= 24 h '
'ahead, >= 2000-01-01), correlation_id?, related_event_id?, action? record|correct|retract, idempotency_key?}. '
'correct/retract need a live event of the caller (404, 409 if already superseded) and inherit its type, '
'subtype, correlation_id and occurred_at/local_date unless given. 201 {success, event, schema_version}; '
'same Idempotency-Key + same body -> the original event with _status 200; other body -> NV409.';
