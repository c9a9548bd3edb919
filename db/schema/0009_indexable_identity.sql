-- Identity lookups by index. 0007's users policy and core.current_user_id() used a CASE over the claims,
-- which no index can serve: every request scanned all of users. Same semantics (id claim wins, else
-- email), written as conditions the primary key and users_email_key can answer. core.claims() loses its
-- exception block (a subtransaction on every call): the gateway always sets valid JSON, and a psql user
-- who sets invalid JSON now gets PostgreSQL's own "invalid input syntax for type json" error.

CREATE OR REPLACE FUNCTION core.claims()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN jsonb_typeof(c.j) = 'object' THEN c.j ELSE '{}'::jsonb END
    FROM (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb AS j) AS c
$$;

CREATE OR REPLACE FUNCTION core.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT u.id FROM public.users AS u WHERE u.id = core.claim_id()
    UNION ALL
    SELECT u.id FROM public.users AS u WHERE core.claim_id() IS NULL AND u.email = core.claim_email()
    LIMIT 1
$$;

ALTER POLICY users_self ON public.users
USING (id = core.claim_id() OR (core.claim_id() IS NULL AND email = core.claim_email()))
WITH CHECK (id = core.claim_id() OR (core.claim_id() IS NULL AND email = core.claim_email()));
