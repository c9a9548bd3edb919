-- Schemas and extensions every later migration relies on.
-- Tables and views live in public (so the deployment guide's SQL runs as written);
-- the functions the HTTP routes call live in api.

CREATE SCHEMA IF NOT EXISTS api;
COMMENT ON SCHEMA api IS
'Novara Schema V2 API: the functions the HTTP gateway calls, one per route. psql users call the same ones.';

-- pg_stat_statements backs the guide's monitoring query. It is in contrib (embedded server, Debian,
-- every managed PostgreSQL); when a server lacks it we go on without it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements') THEN
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    END IF;
END
$$;
