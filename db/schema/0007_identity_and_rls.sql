-- Identity from the request's claims, row-level security, and table privileges.
--
-- The gateway verifies the JWT and sets its claims transaction-locally:
--     SELECT set_config('request.jwt.claims', '{"id": "...", "email": "..."}', true);
-- (psql users do the same). Policies compare each row's owner with the user those claims name.
-- These identity functions back the policies, so they are defined here with them; a change to them
-- is a new migration (CREATE OR REPLACE keeps the policies pointing at them).

CREATE FUNCTION core.claims()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    raw text := current_setting('request.jwt.claims', true);
    parsed jsonb;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN '{}'::jsonb;
    END IF;
    parsed := raw::jsonb;
    RETURN CASE WHEN jsonb_typeof(parsed) = 'object' THEN parsed ELSE '{}'::jsonb END;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN '{}'::jsonb;
END
$$;
COMMENT ON FUNCTION core.claims() IS
'The verified JWT claims of the current request (transaction-local setting request.jwt.claims), or {}.';

CREATE FUNCTION core.claim_id()
RETURNS uuid
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN core.claims() ->> 'id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            THEN (core.claims() ->> 'id')::uuid
    END
$$;
COMMENT ON FUNCTION core.claim_id() IS 'The "id" claim as a uuid, or NULL when absent or not a uuid.';

CREATE FUNCTION core.claim_email()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT nullif(lower(btrim(core.claims() ->> 'email')), '')
$$;
COMMENT ON FUNCTION core.claim_email() IS 'The "email" claim, trimmed and lower-cased, or NULL.';

CREATE FUNCTION core.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT u.id
    FROM public.users AS u
    WHERE CASE
        WHEN core.claim_id() IS NOT NULL THEN u.id = core.claim_id()
        ELSE u.email = core.claim_email()
    END
$$;
COMMENT ON FUNCTION core.current_user_id() IS
'The user the request''s claims name (by id when the token has one, else by email), or NULL.';

GRANT EXECUTE ON FUNCTION core.claims(), core.claim_id(), core.claim_email(), core.current_user_id()
TO novara_api, novara_definer, novara_analyst;

-- users: a request sees (and may create) only the account its claims name.
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_self ON public.users
USING (
    CASE WHEN core.claim_id() IS NOT NULL THEN id = core.claim_id() ELSE email = core.claim_email() END
)
WITH CHECK (
    CASE WHEN core.claim_id() IS NOT NULL THEN id = core.claim_id() ELSE email = core.claim_email() END
);
CREATE POLICY users_analyst_read ON public.users FOR SELECT TO novara_analyst USING (TRUE);

-- Every per-user table: rows of the claims' user only; analysts read all.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['user_profiles', 'health_events', 'live_checkins', 'insights', 'daily_checkins']
    LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON public.%I USING (user_id = (SELECT core.current_user_id())) '
            'WITH CHECK (user_id = (SELECT core.current_user_id()))',
            t || '_owner', t
        );
        EXECUTE format(
            'CREATE POLICY %I ON public.%I FOR SELECT TO novara_analyst USING (TRUE)', t || '_analyst_read', t
        );
    END LOOP;
END
$$;

-- Privileges. The gateway role reads (row-level secured) but never writes directly.
GRANT SELECT ON public.users, public.user_profiles, public.health_events, public.live_checkins,
public.insights, public.daily_checkins, public.event_types, public.mood_scores, public.checkin_fields,
public.timezones TO novara_api;

GRANT SELECT, INSERT, UPDATE ON public.users, public.user_profiles TO novara_definer;
GRANT SELECT, INSERT ON public.health_events TO novara_definer;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.live_checkins, public.insights, public.daily_checkins
TO novara_definer;
GRANT SELECT ON public.event_types, public.mood_scores, public.checkin_fields, public.timezones,
public.metrics_refresh_log, public.schema_migrations TO novara_definer;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO novara_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO novara_analyst;
