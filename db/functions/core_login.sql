-- Login attempts and their rate limits (public.login_attempts, public.login_limits). See docs/accounts.md.

-- NV429 when the email (failures since its last success) or the client address (failures for any email)
-- reached its limit within its window. Serialised per email and per address (advisory locks, email first),
-- so concurrent attempts cannot all slip under a limit. retry_after: seconds until the block lifts.
CREATE OR REPLACE FUNCTION core.login_throttle(p_email text, p_client text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    lim public.login_limits%ROWTYPE;
    v_oldest timestamptz;
    v_wait integer := 0;
BEGIN
    IF p_email IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('novara.login.email:' || p_email, 0));
    END IF;
    IF p_client IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('novara.login.client:' || p_client, 0));
    END IF;

    SELECT l.* INTO lim FROM public.login_limits AS l WHERE l.scope = 'email';
    IF FOUND AND p_email IS NOT NULL THEN
        -- The failure whose expiry brings the count back under the limit (the max_failures-th newest).
        SELECT a.attempted_at INTO v_oldest
        FROM public.login_attempts AS a
        WHERE a.email = p_email AND NOT a.succeeded AND a.attempted_at > now() - lim.time_window
            AND a.attempted_at > coalesce(
                (SELECT max(s.attempted_at) FROM public.login_attempts AS s WHERE s.email = p_email AND s.succeeded),
                '-infinity'
            )
        ORDER BY a.attempted_at DESC
        OFFSET lim.max_failures - 1 LIMIT 1;
        IF v_oldest IS NOT NULL THEN
            v_wait := greatest(v_wait, ceil(extract(EPOCH FROM v_oldest + lim.time_window - now()))::integer);
        END IF;
    END IF;

    SELECT l.* INTO lim FROM public.login_limits AS l WHERE l.scope = 'client';
    IF FOUND AND p_client IS NOT NULL THEN
        v_oldest := NULL;
        SELECT a.attempted_at INTO v_oldest
        FROM public.login_attempts AS a
        WHERE a.client = p_client AND NOT a.succeeded AND a.attempted_at > now() - lim.time_window
        ORDER BY a.attempted_at DESC
        OFFSET lim.max_failures - 1 LIMIT 1;
        IF v_oldest IS NOT NULL THEN
            v_wait := greatest(v_wait, ceil(extract(EPOCH FROM v_oldest + lim.time_window - now()))::integer);
        END IF;
    END IF;

    IF v_wait > 0 THEN
        PERFORM core.fail(429, 'Too many login attempts, please try again later', 'RATE_LIMITED',
            jsonb_build_object('retry_after', greatest(v_wait, 1)));
    END IF;
END
$$;

COMMENT ON FUNCTION core.login_throttle(text, text) IS
'NV429 Too many login attempts, please try again later (code RATE_LIMITED, retry_after seconds) when the '
'email or the client address reached its public.login_limits row; otherwise nothing. NULL keys are not counted.';

-- Record an attempt (failed until core.login_succeeded marks it), after checking the limits; also drops a
-- bounded batch of attempts older than a day. Returns the attempt's id.
CREATE OR REPLACE FUNCTION core.login_record(p_email text, p_client text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    v_email text := CASE WHEN char_length(p_email) <= 254 THEN p_email END;
    v_client text := left(nullif(p_client, ''), 100);
    v_id uuid;
BEGIN
    PERFORM core.login_throttle(v_email, v_client);
    DELETE FROM public.login_attempts AS a
    WHERE a.id IN (
        SELECT o.id FROM public.login_attempts AS o WHERE o.attempted_at < now() - INTERVAL '1 day' LIMIT 100
    );
    INSERT INTO public.login_attempts (email, client) VALUES (v_email, v_client) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION core.login_record(text, text) IS
'Check the rate limits (NV429) and insert a failed-until-proven-otherwise login attempt; returns its id. '
'Emails over 254 characters are recorded as NULL (only the address counts them); prunes attempts over a day old.';

-- Mark the caller's attempt succeeded (the attempt must belong to that email and be unfinished).
CREATE OR REPLACE FUNCTION core.login_succeeded(p_attempt jsonb, p_email text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    IF jsonb_typeof(p_attempt) = 'string'
        AND (p_attempt #>> '{}') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        UPDATE public.login_attempts AS a SET succeeded = TRUE
        WHERE a.id = (p_attempt #>> '{}')::uuid AND a.email = p_email AND NOT a.succeeded;
    END IF;
END
$$;

COMMENT ON FUNCTION core.login_succeeded(jsonb, text) IS
'Mark login attempt p_attempt (a uuid string from api.login_begin; anything else is ignored) of p_email succeeded.';
