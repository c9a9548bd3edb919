-- GET /api/v2/health/daily-summary: one local day of the caller, from the live events.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.daily_summary(args jsonb DEFAULT '{}'::jsonb)
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
    RETURN core.daily_summary(uid, args);
END
$$;

ALTER FUNCTION api.daily_summary(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.daily_summary(jsonb) IS
'GET /api/v2/health/daily-summary. VOLATILE: it imports the caller''s pending V1-mode writes into the event log '
'first (core.sync_legacy_checkins, docs/v1-v2-sync.md), then answers with core.daily_summary. The gateway serves the '
'route with api.daily_summary_read_only (STABLE, a standby) and calls this one, on the primary, only when that one '
'says something is pending. args date (YYYY-MM-DD, default the caller''s today, core.user_today). {success, summary: '
'{date, user_id, check_in_completed, mood_score, confidence_score, medication_taken, events (live, newest first), '
'insights}, schema_version}; figures from the day''s rollup kept by the writes (core.daily_summary), so never stale.';
