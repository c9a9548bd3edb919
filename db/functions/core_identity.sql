-- The caller, their timezone and their local day.

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
