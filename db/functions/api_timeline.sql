-- GET /api/v2/health/timeline: the caller's events, newest first, one page at a time.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.timeline(args jsonb DEFAULT '{}'::jsonb)
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
    RETURN core.timeline(uid, args);
END
$$;

ALTER FUNCTION api.timeline(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.timeline(jsonb) IS
'GET /api/v2/health/timeline. '
'VOLATILE: it imports the caller''s pending V1-mode writes into the event log first (core.sync_legacy_checkins, '
'docs/v1-v2-sync.md), then answers with core.timeline. The gateway serves the route with api.timeline_read_only '
'(STABLE, a standby) and calls this one, on the primary, only when that one says something is pending. '
'args start_date/end_date (YYYY-MM-DD local days or ISO instants, inclusive; '
'default the last 30 local days), event_types (comma list; unknown -> NV400), limit (1-1000, default 100), '
'before (cursor next_before), include_history (true shows superseded and retraction events). '
'{success, timeline: [event], count, next_before|null, schema_version}, newest occurred_at first.';
