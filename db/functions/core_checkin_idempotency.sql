-- Idempotency of check-in creation (POST /api/checkins, /api/daily-checkin-enhanced) in V2 and V1 mode alike:
-- the key is claimed in the creating transaction (public.checkin_idempotency), so a retry with the same key
-- replays the original response and a concurrent twin waits for the first to commit, then replays it.

CREATE OR REPLACE FUNCTION core.checkin_idempotency_claim(p_user_id uuid, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    v_key text;
    v_hash text;
    claimed boolean;
    prior public.checkin_idempotency;
BEGIN
    IF coalesce(jsonb_typeof(p_args -> 'idempotency_key'), 'null') = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_args -> 'idempotency_key') <> 'string'
        OR char_length(p_args ->> 'idempotency_key') NOT BETWEEN 1 AND 200 THEN
        PERFORM core.fail(400, 'Idempotency-Key must be 1 to 200 characters', 'VALIDATION_ERROR',
            jsonb_build_object('field', 'idempotency_key'));
    END IF;
    v_key := p_args ->> 'idempotency_key';
    v_hash := md5((p_args - 'idempotency_key')::text);

    -- Claim the key. A concurrent claim of the same key waits here for the other transaction: if it
    -- commits, the row below is its; if it rolls back (an error), this one takes the key.
    INSERT INTO public.checkin_idempotency (user_id, idempotency_key, request_hash)
    VALUES (p_user_id, v_key, v_hash)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING TRUE INTO claimed;
    IF claimed THEN
        RETURN NULL;
    END IF;

    SELECT k.* INTO prior
    FROM public.checkin_idempotency AS k
    WHERE k.user_id = p_user_id AND k.idempotency_key = v_key;
    IF prior.request_hash IS DISTINCT FROM v_hash THEN
        PERFORM core.fail(409, 'Idempotency-Key reuse with a different request', 'IDEMPOTENCY_CONFLICT',
            jsonb_build_object('checkin_id', prior.checkin_id));
    END IF;
    PERFORM core.respond_with(200);  -- a replay: the original answer, 200 rather than the route's 201
    RETURN prior.response;
END
$$;

COMMENT ON FUNCTION core.checkin_idempotency_claim(uuid, jsonb) IS
'For a check-in creation with args.idempotency_key: NULL when there is no key or this transaction has just '
'claimed it (create, then core.checkin_idempotency_store); the original response (status 200) when the '
'user already used it with the same body (hash of args without the key); NV409 IDEMPOTENCY_CONFLICT '
'(checkin_id) with another body; NV400 when the key is not a 1-200 character string.';

CREATE OR REPLACE FUNCTION core.checkin_idempotency_store(
    p_user_id uuid, p_args jsonb, p_checkin_id uuid, p_response jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    IF coalesce(jsonb_typeof(p_args -> 'idempotency_key'), 'null') <> 'null' THEN
        UPDATE public.checkin_idempotency AS k
        SET checkin_id = p_checkin_id, response = p_response
        WHERE k.user_id = p_user_id AND k.idempotency_key = p_args ->> 'idempotency_key';
    END IF;
    RETURN p_response;
END
$$;

COMMENT ON FUNCTION core.checkin_idempotency_store(uuid, jsonb, uuid, jsonb) IS
'After a check-in creation that claimed args.idempotency_key: record the check-in id and the response on the '
'claim (same transaction). Returns p_response; a no-op without a key.';
