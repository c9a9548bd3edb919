-- valid-checksum: 4f3fcf92acf2126ada48a163364b7186a2474833f90ba3764102865e2265e807
-- valid-checksum: 63655da6ca2349c0c0ed0668be1072b37924d4b2521f4abc085c74ed4953265f
-- (the first text, then the one with the trigger moved up so that an owner who is not a superuser can apply it;
-- since, a comment reworded: the same objects, grants and owners result from each)
-- Optional passwords and login rate limiting. See docs/accounts.md.
--
-- The embedded PostgreSQL build has no pgcrypto, so the gateway hashes passwords (scrypt) and the database
-- stores only the hash string. Nothing a client can reach returns it: novara_api and novara_analyst have
-- no privilege on user_credentials; only the SECURITY DEFINER functions' owner (novara_definer) reads it,
-- and row-level security still limits that owner to the user named by the request's claims.

CREATE TABLE public.user_credentials (
    user_id uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_credentials_hash_format CHECK (
        password_hash ~ (
            '^scrypt\$[0-9]{1,8}\$[0-9]{1,3}\$[0-9]{1,3}\$'
            || '[A-Za-z0-9+/]{16,88}={0,2}\$[A-Za-z0-9+/]{43,88}={0,2}$'
        )
    )
);
COMMENT ON TABLE public.user_credentials IS
'Optional password of a user, as a scrypt hash computed by the gateway (the database never sees the '
'password). No privilege for novara_api or novara_analyst; read only by the SECURITY DEFINER functions.';
COMMENT ON COLUMN public.user_credentials.password_hash IS
'scrypt$<N>$<r>$<p>$<salt, base64>$<derived key, base64>: the parameters and salt travel with the hash, so '
'the cost can be raised for new passwords without invalidating old ones.';
COMMENT ON COLUMN public.user_credentials.set_at IS 'When the password was set or last changed.';

ALTER TABLE public.user_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY user_credentials_owner ON public.user_credentials
USING (user_id = (SELECT core.current_user_id()))
WITH CHECK (user_id = (SELECT core.current_user_id()));

-- Login attempts: what the rate limits count. Keyed by email as typed (unknown emails count too) and by
-- the client address the gateway saw; succeeded turns true when the login (or password change) succeeds.
CREATE TABLE public.login_attempts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text,
    client text,
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    succeeded boolean NOT NULL DEFAULT FALSE,
    CONSTRAINT login_attempts_email_length CHECK (char_length(email) <= 254),
    CONSTRAINT login_attempts_client_length CHECK (char_length(client) <= 100)
);
CREATE INDEX login_attempts_email_window ON public.login_attempts (email, attempted_at);
CREATE INDEX login_attempts_client_window ON public.login_attempts (client, attempted_at);
CREATE INDEX login_attempts_attempted_at ON public.login_attempts (attempted_at);
COMMENT ON TABLE public.login_attempts IS
'One row per login (or password change) attempt, written by api.login_begin before the password is checked '
'and marked succeeded by api.login / api.change_password: the rate limits count the failures in a window. '
'Personal data (email, address): kept one day, removed with the account by core.erase_user.';
COMMENT ON COLUMN public.login_attempts.email IS
'The email of the attempt, trimmed and lower-cased (NULL when longer than an email can be).';
COMMENT ON COLUMN public.login_attempts.client IS
'The client address the gateway saw (request.client.host; X-Forwarded-For only when a setting says so).';
COMMENT ON COLUMN public.login_attempts.succeeded IS
'False until the attempt succeeds: an attempt abandoned half-way counts as a failure.';

ALTER TABLE public.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.login_attempts FORCE ROW LEVEL SECURITY;
-- The functions count failures across emails per client address: their owner sees every row.
CREATE POLICY login_attempts_definer ON public.login_attempts
TO novara_definer USING (TRUE) WITH CHECK (TRUE);
-- Anyone else with a privilege (the migrating user running core.erase_user) sees the claims' user's rows.
CREATE POLICY login_attempts_owner ON public.login_attempts
USING (
    email = (
        SELECT u.email FROM public.users AS u
        WHERE u.id = (SELECT core.current_user_id())
    )
);

-- The limits, as data: an operator tunes them with an UPDATE, no release needed.
CREATE TABLE public.login_limits (
    scope text PRIMARY KEY,
    max_failures integer NOT NULL,
    time_window interval NOT NULL,
    description text NOT NULL,
    CONSTRAINT login_limits_scope_check CHECK (scope IN ('email', 'client')),
    CONSTRAINT login_limits_max_failures_check CHECK (max_failures BETWEEN 1 AND 100000),
    CONSTRAINT login_limits_window_check CHECK (time_window BETWEEN interval '1 second' AND interval '1 day')
);
COMMENT ON TABLE public.login_limits IS
'Login rate limits: with max_failures failed attempts within time_window for one email (since its last '
'successful login) or from one client address, api.login_begin answers 429 until the oldest counted failure '
'leaves the window.';
INSERT INTO public.login_limits (scope, max_failures, time_window, description) VALUES
('email', 5, interval '15 minutes', 'Failed attempts for one email since its last success (password guessing).'),
('client', 20, interval '15 minutes', 'Failed attempts from one client address, any email (stuffing, enumeration).');

-- Privileges: nothing for novara_api; analysts keep the limits only (0007's default privileges gave them
-- SELECT on every new table of public: take it back from the two personal tables).
REVOKE ALL ON public.user_credentials, public.login_attempts FROM novara_api, novara_analyst, public;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.user_credentials, public.login_attempts TO novara_definer;
GRANT SELECT ON public.login_limits TO novara_definer, novara_analyst;

-- Whoever deletes an account (core.erase_user, a DBA's DELETE), the login attempts made with its email go
-- too (its password hash goes by ON DELETE CASCADE). The function runs as novara_definer, the one role that
-- sees every attempt; firing a trigger needs no EXECUTE privilege, so nobody is granted one.
CREATE FUNCTION core.forget_login_attempts()
RETURNS trigger
LANGUAGE plpgsql
-- SECURITY DEFINER: the deleting role (a DBA granted only what erasure needs) has no privilege on login_attempts.
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    DELETE FROM public.login_attempts AS a WHERE a.email = old.email;
    RETURN NULL;
END
$$;
-- The trigger is created while the migrating login still owns the function: creating a trigger needs EXECUTE
-- on its function, which nobody keeps below (a superuser needs none, an owner on a managed server does).
CREATE TRIGGER users_forget_login_attempts
AFTER DELETE ON public.users
FOR EACH ROW EXECUTE FUNCTION core.forget_login_attempts();
ALTER FUNCTION core.forget_login_attempts() OWNER TO novara_definer;
REVOKE ALL ON FUNCTION core.forget_login_attempts() FROM public, novara_api, novara_definer, novara_analyst;
COMMENT ON FUNCTION core.forget_login_attempts() IS
'Trigger of users (AFTER DELETE): deletes the login attempts recorded with the deleted account''s email.';
COMMENT ON TRIGGER users_forget_login_attempts ON public.users IS
'Deleting an account deletes the login attempts made with its email (personal data: email, client address).';
