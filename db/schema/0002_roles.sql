-- Roles (cluster-wide, so every CREATE is guarded) and the internal schema.
--
-- novara_api      the role the gateway's requests run under (SET ROLE per transaction, as PostgREST does,
--                 so a single managed-database user also works). It may EXECUTE the api.* functions and
--                 SELECT per-user tables, where row-level security shows it only the caller's rows. It
--                 has no INSERT/UPDATE/DELETE on any table: functions are the only write path.
-- novara_definer  owns the api.* functions (SECURITY DEFINER) and holds the table privileges they need.
--                 It is neither a superuser nor BYPASSRLS, so row-level security applies inside the
--                 functions too: isolation is enforced by PostgreSQL, not by function code alone.
-- novara_analyst  read-only role for DBAs and analysts: SELECT on every table and view, across users.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'novara_api') THEN
        CREATE ROLE novara_api NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'novara_definer') THEN
        CREATE ROLE novara_definer NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'novara_analyst') THEN
        CREATE ROLE novara_analyst NOLOGIN;
    END IF;
END
$$;

-- The migrating user must be able to switch to novara_api (the gateway does SET ROLE) and to hand
-- function ownership to novara_definer. A superuser already can; GRANT is harmless then.
GRANT novara_api TO current_user;
GRANT novara_definer TO current_user;

COMMENT ON ROLE novara_api IS
'Gateway requests run as this role: EXECUTE on api.* and row-level-secured SELECT; no direct writes.';
COMMENT ON ROLE novara_definer IS
'Owner of the SECURITY DEFINER api.* functions; subject to row-level security (not BYPASSRLS).';
COMMENT ON ROLE novara_analyst IS 'Read-only role for analysts and DBAs: SELECT on every table and view.';

CREATE SCHEMA IF NOT EXISTS core;
COMMENT ON SCHEMA core IS
'Internal helpers of Novara Schema V2 (validation, identity, event writing). Not callable by novara_api '
'except the identity functions row-level security policies use.';

GRANT USAGE ON SCHEMA api TO novara_api, novara_definer, novara_analyst;
GRANT USAGE ON SCHEMA core TO novara_api, novara_definer, novara_analyst;

-- Functions the migrating user creates are not executable by PUBLIC; api.* is executable by the gateway
-- role and analysts, core.* by the functions' owner. Anything more is granted by the file that needs it.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM public;
ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT EXECUTE ON FUNCTIONS TO novara_api, novara_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA core GRANT EXECUTE ON FUNCTIONS TO novara_definer;
