-- Who is asking: the identity functions. The gateway verifies the JWT and sets its claims transaction-locally,
--     SELECT set_config('request.jwt.claims', '{"id": "...", "email": "..."}', true);
-- (psql users do the same); the row-level security policies (migration 0007) compare each row's owner with the
-- user those claims name, through these functions. They were first defined by the versioned migrations 0007,
-- 0009 and 0015; this file is their one definition now (CREATE OR REPLACE keeps the policies pointing at them).
-- Then the caller's timezone and local day, which every window of the API starts from.

-- Invalid JSON in request.jwt.claims is PostgreSQL's own error ("invalid input syntax for type json"): the
-- gateway always sets valid JSON, and catching it would cost a subtransaction on every call of every policy.
CREATE OR REPLACE FUNCTION core.claims()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN jsonb_typeof(c.j) = 'object' THEN c.j ELSE '{}'::jsonb END
    FROM (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb AS j) AS c
$$;
COMMENT ON FUNCTION core.claims() IS
'The verified JWT claims of the current request (transaction-local setting request.jwt.claims), or {}.';

CREATE OR REPLACE FUNCTION core.claim_id()
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

CREATE OR REPLACE FUNCTION core.claim_email()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT nullif(lower(btrim(core.claims() ->> 'email')), '')
$$;
COMMENT ON FUNCTION core.claim_email() IS 'The "email" claim, trimmed and lower-cased, or NULL.';

-- The caller's id, resolved once per transaction. Every statement that reads a per-user table evaluates the
-- policies' core.current_user_id() (once per table reference and statement), and each evaluation costs ~0.1 ms
-- of nested SQL-function calls (claims parsing, then the users lookup, itself under the users policy): resolved
-- every time, a tenth of a request's database time on the cheap routes.
--
-- The resolved id is kept in the transaction-local setting novara.current_user as "<uuid> <claims text>" and
-- reused only while request.jwt.claims still holds exactly that text; a changed claims setting (api.login names
-- the account it looks up) resolves again. Only a found user is kept, so a sign-up in the same transaction is
-- seen. Trust is unchanged: whoever can set novara.current_user can equally set request.jwt.claims, which is
-- what the policies have always trusted (the gateway sets it per request). The lookup is written as two
-- conditions an index answers (the primary key, users_email_key): a CASE over the claims would scan all of users.
CREATE OR REPLACE FUNCTION core.current_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    v_claims text := coalesce(current_setting('request.jwt.claims', true), '');
    v_cached text := current_setting('novara.current_user', true);
    uid uuid;
BEGIN
    IF length(v_cached) > 37 AND substr(v_cached, 38) = v_claims THEN
        RETURN left(v_cached, 36)::uuid;
    END IF;
    SELECT found.id INTO uid
    FROM (
        SELECT u.id FROM public.users AS u WHERE u.id = core.claim_id()
        UNION ALL
        SELECT u.id FROM public.users AS u WHERE core.claim_id() IS NULL AND u.email = core.claim_email()
        LIMIT 1
    ) AS found;
    IF uid IS NOT NULL THEN
        PERFORM set_config('novara.current_user', uid::text || ' ' || v_claims, true);
    END IF;
    RETURN uid;
END
$$;

COMMENT ON FUNCTION core.current_user_id() IS
'The user the request''s claims name (by id when the token has one, else by email), or NULL. Resolved once '
'per transaction and claims text (cached in the transaction-local setting novara.current_user).';

-- Who may execute these four is set by the versioned migrations (0007 grants, 0016 takes them from analysts):
-- CREATE OR REPLACE keeps those privileges, and a GRANT here would undo 0016 on every re-apply.

CREATE OR REPLACE FUNCTION core.require_user()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid;
BEGIN
    IF core.claim_id() IS NULL AND core.claim_email() IS NULL THEN
        PERFORM core.fail(401, 'Access token required', 'AUTH_REQUIRED');
    END IF;
    uid := core.current_user_id();
    IF uid IS NULL THEN
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;
    RETURN uid;
END
$$;
COMMENT ON FUNCTION core.require_user() IS
'The id of the user named by request.jwt.claims; NV401 without claims, NV404 for an unknown user.';

CREATE OR REPLACE FUNCTION core.user_timezone(p_user_id uuid)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(
        (SELECT p.timezone FROM public.user_profiles AS p WHERE p.user_id = p_user_id),
        'America/Los_Angeles'
    )
$$;
COMMENT ON FUNCTION core.user_timezone(uuid) IS
'The IANA timezone of the user''s profile (default America/Los_Angeles).';

CREATE OR REPLACE FUNCTION core.local_date(p_user_id uuid, p_at timestamptz DEFAULT now())
RETURNS date
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT (p_at AT TIME ZONE core.user_timezone(p_user_id))::date
$$;
COMMENT ON FUNCTION core.local_date(uuid, timestamptz) IS
'The user''s local calendar date at an instant (default now) in their profile timezone.';
