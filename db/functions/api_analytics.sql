-- GET /api/v2/analytics: the caller's metrics over the last 7, 30 or 90 local days.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.analytics(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    RETURN core.analytics(uid, args);
END
$$;

ALTER FUNCTION api.analytics(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.analytics(jsonb) IS
'GET /api/v2/analytics. '
'VOLATILE: it imports the caller''s pending V1-mode writes into the event log first (core.sync_legacy_checkins, '
'docs/v1-v2-sync.md), then answers with core.analytics. The gateway serves the route with api.analytics_read_only '
'(STABLE, a standby) and calls this one, on the primary, only when that one says something is pending. '
'args timeframe week|month|quarter (7/30/90 local days ending today; default week; '
'else NV400). Reads the rollups the writes keep (core.analytics), never the materialized views, so it is never stale. '
'adherence_rate = percent of taken (1) + partial (0.5) over taken, partial, missed and skipped answers.';
