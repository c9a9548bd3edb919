-- GET /api/insights/daily on a standby: the day's insight when it is stored already. See [read-only-first] in
-- db/README.md.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.daily_insight_read_only(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    prof public.user_profiles;
    today date;
    facts jsonb;
    ins public.insights;
BEGIN
    PERFORM core.require_no_pending_v1_writes(uid);
    prof := core.daily_insight_profile(uid);  -- NV403 until the profile is complete
    today := core.user_today(uid);
    facts := core.daily_insight_facts(uid, today) || jsonb_build_object('name', coalesce(prof.nickname, 'friend'));
    SELECT i.* INTO ins
    FROM public.insights AS i
    WHERE
        i.user_id = uid AND i.local_date = today AND i.category = 'daily'
        AND i.inputs_fingerprint = core.daily_insight_inputs(uid, facts);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the insight of today''s inputs is not stored yet: read on the primary'
            USING ERRCODE = '25006', HINT = 'Call api.daily_insight, which computes and stores it.';
    END IF;
    RETURN core.daily_insight_json(ins);
END
$$;

ALTER FUNCTION api.daily_insight_read_only(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.daily_insight_read_only(jsonb) IS
'GET /api/insights/daily as the gateway serves it first (STABLE: on a standby when DATABASE_READ_URL is set): the '
'insight stored for today''s inputs, as api.daily_insight answers it; NV403 as it; SQLSTATE 25006 when none is stored '
'yet or V1-mode writes are pending, and then the gateway calls api.daily_insight on the primary.';
