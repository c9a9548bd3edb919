-- Idempotency of api.create_event: the answer to a request whose Idempotency-Key the user already used.

CREATE OR REPLACE FUNCTION core.event_replay(p_user_id uuid, p_key text, p_hash text)
RETURNS jsonb
LANGUAGE plpgsql
-- VOLATILE: called again after losing an insert race, it must read the winner's committed row.
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    v_prior public.health_events;
BEGIN
    SELECT e.* INTO v_prior FROM public.health_events AS e WHERE e.user_id = p_user_id AND e.idempotency_key = p_key;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_prior.request_hash IS DISTINCT FROM p_hash THEN
        PERFORM core.fail(409, 'Idempotency-Key reuse with a different request', 'IDEMPOTENCY_CONFLICT',
            jsonb_build_object('event_id', v_prior.id));
    END IF;
    PERFORM core.respond_with(200);  -- a replay: the original event, 200 rather than the route's 201
    RETURN jsonb_build_object('success', TRUE, 'event', core.event_json(v_prior), 'schema_version', 'v2');
END
$$;

COMMENT ON FUNCTION core.event_replay(uuid, text, text) IS
'The user''s event recorded with Idempotency-Key p_key: the replay {success, event, schema_version} (status 200) '
'when its request hash is p_hash, NV409 IDEMPOTENCY_CONFLICT (event_id) when not; NULL when there is none.';
