-- Fixtures shared by db/tests (loaded into the test template after _assert.sql): users, the request's
-- claims, and the role a test runs as.

-- Name a user in the request's claims (transaction-local), as the gateway does for a token with an email.
CREATE OR REPLACE FUNCTION tests.as_user(p_email text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', json_build_object('email', p_email)::text, TRUE);
END
$$;
COMMENT ON FUNCTION tests.as_user(text) IS
'Set request.jwt.claims to {"email": p_email} for the rest of the transaction.';

-- A user with a profile in timezone `p_tz`; the request's claims now name them. Returns the user's id.
CREATE OR REPLACE FUNCTION tests.make_user(p_email text, p_tz text DEFAULT 'America/Los_Angeles')
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid;
BEGIN
    INSERT INTO public.users (email) VALUES (p_email) RETURNING id INTO uid;
    INSERT INTO public.user_profiles (user_id, timezone) VALUES (uid, p_tz);
    PERFORM tests.as_user(p_email);
    RETURN uid;
END
$$;
COMMENT ON FUNCTION tests.make_user(text, text) IS
'Insert a user and their profile (timezone p_tz), name them in the claims and return their id.';

-- Create an event of the current user through api.create_event; returns its id. p_at: occurred_at (ISO 8601).
CREATE OR REPLACE FUNCTION tests.add_event(p_type text, p_data jsonb, p_at text, p_subtype text DEFAULT NULL)
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog
AS $$
    SELECT api.create_event(jsonb_strip_nulls(jsonb_build_object(
        'event_type', p_type, 'event_subtype', p_subtype, 'event_data', p_data, 'occurred_at', p_at
    ))) -> 'event' ->> 'id'
$$;
COMMENT ON FUNCTION tests.add_event(text, jsonb, text, text) IS
'api.create_event of {event_type, event_subtype (omitted when NULL), event_data, occurred_at} for the '
'current claims; returns the new event''s id.';

-- Switch to the gateway role with these claims (NULL: no claims), and back to the superuser.
CREATE OR REPLACE FUNCTION tests.as_gateway(p_claims jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(p_claims::text, ''), TRUE);
    PERFORM set_config('role', 'novara_api', TRUE);
END
$$;
COMMENT ON FUNCTION tests.as_gateway(jsonb) IS
'Run the rest of the transaction as novara_api with request.jwt.claims = p_claims (NULL: none).';

CREATE OR REPLACE FUNCTION tests.as_superuser()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM set_config('role', 'none', TRUE);
END
$$;
COMMENT ON FUNCTION tests.as_superuser() IS
'Back to the session user (the superuser running the tests) after tests.as_gateway.';

-- Tests switch to the gateway role and keep calling the helpers and their own functions: novara_api may use
-- the tests schema and run its functions, also those a test file creates later (test databases only).
GRANT USAGE ON SCHEMA tests TO novara_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO novara_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA tests GRANT EXECUTE ON FUNCTIONS TO novara_api;

-- The HTTP status the last api call set (core.respond_with), or NULL when it kept the route's own; read once: the
-- setting is cleared, so the next call is seen on its own.
CREATE OR REPLACE FUNCTION tests.took_status()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    v text := nullif(current_setting('response.status', TRUE), '');
BEGIN
    PERFORM set_config('response.status', '', TRUE);
    RETURN v::integer;
END
$$;
COMMENT ON FUNCTION tests.took_status() IS
'The response.status the last api call set (NULL: the route''s own status), then cleared.';

-- The check-ins whose read model (daily_checkins) differs from what the event log rebuilds (the view
-- daily_checkins_legacy), as [{id, model, log}] (NULL: none). Compared: every column of the view, i.e. owner, date,
-- type, fields (for a row whose "fields" a writer left NULL, the fields derived from its columns,
-- core.legacy_fields) and each typed column; the instants created_at and updated_at are the read model's alone.
-- Run as the superuser (it calls core.legacy_fields, which the gateway role may not).
CREATE OR REPLACE FUNCTION tests.checkins_drift()
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog
AS $$
    SELECT jsonb_agg(jsonb_build_object('id', x.id, 'model', x.model, 'log', x.log) ORDER BY x.id)
    FROM (
        SELECT
            coalesce(d.id, v.id) AS id,
            CASE WHEN d.id IS NOT NULL THEN
                to_jsonb(jsonb_populate_record(
                    NULL::public.daily_checkins_legacy,
                    to_jsonb(d) || jsonb_build_object('fields', core.legacy_fields(d))
                ))
            END AS model,
            CASE WHEN v.id IS NOT NULL THEN to_jsonb(v) END AS log
        FROM public.daily_checkins AS d
        FULL JOIN public.daily_checkins_legacy AS v ON d.id = v.id
    ) AS x
    WHERE x.model IS DISTINCT FROM x.log
$$;
COMMENT ON FUNCTION tests.checkins_drift() IS
'[{id, model, log}] of the check-ins whose daily_checkins row differs from the event log''s rebuild '
'(daily_checkins_legacy) in any of the view''s columns; NULL when the read model equals the log.';
