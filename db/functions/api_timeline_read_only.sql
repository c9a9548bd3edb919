-- GET /api/v2/health/timeline on a standby: the caller's events, newest first, one page at a time, read-only. See
-- [read-only-first] in db/README.md.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.timeline_read_only(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    PERFORM core.require_no_pending_v1_writes(uid);
    RETURN core.timeline(uid, args);
END
$$;

ALTER FUNCTION api.timeline_read_only(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.timeline_read_only(jsonb) IS
'GET /api/v2/health/timeline as the gateway serves it first (STABLE: on a standby when DATABASE_READ_URL is set): '
'the same answer as api.timeline (core.timeline), or SQLSTATE 25006 while the caller has V1-mode writes not yet '
'imported into the event log (core.require_no_pending_v1_writes), and then the gateway calls api.timeline on the '
'primary.';
