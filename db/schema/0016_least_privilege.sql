-- Least privilege: each role does one job, and only the roles meant to carry a user's identity can make the
-- database act as a user. The roles, their jobs and the exact privileges are listed in docs/roles.md and
-- pinned by db/tests/test_privileges.sql (a catalog matrix: a grant added without updating it fails).
--
-- owner (the login that runs migrations)  owns tables, views, schemas; never used by the gateway at run time.
-- novara_authenticator  the gateway's login: LOGIN NOINHERIT, member of novara_api only. Its pooled
--                       connections SET ROLE novara_api; RESET ROLE leaves it with no privilege at all.
-- novara_api            EXECUTE on api.* and row-level-secured SELECT; no direct write anywhere.
-- novara_definer        owns the SECURITY DEFINER functions; subject to row-level security.
-- novara_analyst        read-only and pseudonymous: SELECT on the health tables and views, not on email,
--                       nickname, credentials, login attempts or idempotency keys; no api.* function, no
--                       function that reads the request's claims. It cannot act as a user.

-- The authenticator. Created without a password: an operator sets one (ALTER ROLE … PASSWORD), `make run`
-- sets a generated one, and servers with local trust authentication (throwaway test servers) need none.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'novara_authenticator') THEN
        CREATE ROLE novara_authenticator LOGIN NOINHERIT;
    END IF;
END
$$;
GRANT novara_api TO novara_authenticator;
COMMENT ON ROLE novara_authenticator IS
'The gateway''s login: NOINHERIT, no privilege of its own, member of novara_api only (SET ROLE per connection).';

-- Analysts no longer execute api.* (every one of them acts as the user the claims name) nor the claims
-- readers; the gateway's own default grant on new api functions stays.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM novara_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA api REVOKE EXECUTE ON FUNCTIONS FROM novara_analyst;
REVOKE EXECUTE ON FUNCTION core.claims(), core.claim_id(), core.claim_email(), core.current_user_id()
FROM novara_analyst;
REVOKE USAGE ON SCHEMA api FROM novara_analyst;

-- The per-user policies that trust the claims apply only to the roles that carry an identity (the gateway
-- role and the functions' owner); for anyone else the claims setting means nothing. The owner login keeps
-- them through its membership in novara_api (0002) and reads all rows through novara_analyst (0008).
ALTER POLICY users_self ON public.users TO novara_api, novara_definer;
ALTER POLICY user_profiles_owner ON public.user_profiles TO novara_api, novara_definer;
ALTER POLICY health_events_owner ON public.health_events TO novara_api, novara_definer;
ALTER POLICY live_checkins_owner ON public.live_checkins TO novara_api, novara_definer;
ALTER POLICY insights_owner ON public.insights TO novara_api, novara_definer;
ALTER POLICY daily_checkins_owner ON public.daily_checkins TO novara_api, novara_definer;
ALTER POLICY legacy_checkin_changes_owner ON public.legacy_checkin_changes TO novara_api, novara_definer;
ALTER POLICY insight_engagement_owner ON public.insight_engagement TO novara_api, novara_definer;
ALTER POLICY insight_feedback_owner ON public.insight_feedback TO novara_api, novara_definer;
ALTER POLICY user_credentials_owner ON public.user_credentials TO novara_api, novara_definer;
ALTER POLICY login_attempts_owner ON public.login_attempts TO novara_api, novara_definer;
ALTER POLICY checkin_idempotency_owner ON public.checkin_idempotency TO novara_api, novara_definer;

-- Analysts: no default grant on future tables (a new table is private until someone decides otherwise; each
-- table and view grants analysts by name). Pseudonymous: user ids are random UUIDs that say nothing about
-- the person; the columns that name one (users.email, user_profiles.nickname) are out of reach, as are the
-- idempotency keys and the login limits, which no analysis needs.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM novara_analyst;
REVOKE ALL ON public.users, public.user_profiles, public.checkin_idempotency, public.login_limits
FROM novara_analyst;
DROP POLICY checkin_idempotency_analyst_read ON public.checkin_idempotency;
GRANT SELECT (id, status, created_at, updated_at) ON public.users TO novara_analyst;
GRANT SELECT (
    user_id, timezone, email_opt_in, confidence_meds, confidence_costs, confidence_overall, primary_need,
    cycle_stage, top_concern, medication_status, onboarding_path, baseline_completed, cycle_stage_updated,
    medication_status_updated, created_at, updated_at
) ON public.user_profiles TO novara_analyst;

COMMENT ON ROLE novara_analyst IS
'Read-only, pseudonymous: SELECT on health tables and views across users; no email, nickname, credentials '
'or login attempts; no function that writes or that reads the request''s claims.';
COMMENT ON ROLE novara_api IS
'What gateway requests run as (SET ROLE by novara_authenticator): EXECUTE on api.*, row-level-secured '
'SELECT; no direct writes.';
