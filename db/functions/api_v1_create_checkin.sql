-- POST /api/checkins in V1 mode (USE_SCHEMA_V2=false): the check-in goes into the legacy
-- table public.daily_checkins only (its change-log trigger records it for the import into the event log).
-- Same validation, messages, 409 and body as api.create_checkin.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_create_checkin(args jsonb DEFAULT '{}'::jsonb)
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
    v_id uuid := gen_random_uuid();
    v_now timestamptz := now();
    d public.daily_checkins;
    v_replay jsonb;
BEGIN
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
    -- The unique (user_id, date_submitted) decides between concurrent submissions (V1 or V2 instances alike).
    IF NOT core.legacy_put(v_id, uid, v_date, v_type, v_now, v_now, fields, FALSE) THEN
        PERFORM core.fail(409, 'You have already submitted a check-in for today. Please try again tomorrow.',
            'CHECKIN_EXISTS', jsonb_build_object('existing_checkin', core.legacy_existing(uid, v_date)));
    END IF;
    SELECT t.* INTO d FROM public.daily_checkins AS t WHERE t.id = v_id;
    RETURN core.checkin_idempotency_store(uid, a, v_id, core.checkin_created_body(core.legacy_item(d), fields));
END
$$;

ALTER FUNCTION api.v1_create_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_create_checkin(jsonb) IS
'POST /api/checkins in V1 mode: as api.create_checkin, written to daily_checkins only. 201 {success, checkin '
'(read back), message[, sentiment_analysis]}. NV400 invalid field; NV409 CHECKIN_EXISTS with existing_checkin. '
'Idempotency-Key as api.create_checkin (same table, so a key is recognised across modes).';
