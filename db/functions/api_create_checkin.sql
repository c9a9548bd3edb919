-- POST /api/checkins: record today's (or date_submitted's) check-in as events.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.create_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    a jsonb := coalesce(args, '{}'::jsonb);
    fields jsonb;
    v_date date;
    v_type text;
    v_id uuid;
    v_replay jsonb;
BEGIN
    -- Legacy writes first: see [v1-import] in db/README.md
    PERFORM core.sync_legacy_checkins(uid);
    -- A retry with the same Idempotency-Key and body gets the original response (nothing is written).
    v_replay := core.checkin_idempotency_claim(uid, a);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay;
    END IF;
    -- Everything is validated before anything is written.
    fields := core.validate_checkin(a, FALSE);
    v_date := core.checkin_date(a -> 'date_submitted', uid);
    v_type := coalesce(
        core.check_value('checkin_type', a -> 'checkin_type', 'string', NULL, NULL, 50, NULL, 1) #>> '{}',
        'standard'
    );
    v_id := core.checkin_create(uid, fields, v_date, v_type);
    RETURN core.checkin_idempotency_store(
        uid, a, v_id, core.checkin_created_body(core.checkin_get(uid, v_id), fields)
    );
END
$$;

ALTER FUNCTION api.create_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.create_checkin(jsonb) IS
'POST /api/checkins: args = the V1 check-in fields (+ optional date_submitted, checkin_type). 201 {success, '
'checkin (read back), message[, sentiment_analysis]}. NV400 invalid field; NV409 CHECKIN_EXISTS with '
'existing_checkin when the date already has a live check-in. args.idempotency_key (Idempotency-Key): a replay '
'with the same body returns the original response with _status 200, another body NV409 IDEMPOTENCY_CONFLICT.';
