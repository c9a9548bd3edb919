-- PUT /api/checkins/{id} in V1 mode: partial update of the legacy row (given fields replace, absent keep).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_update_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    a jsonb := coalesce(args, '{}'::jsonb);
    v_id uuid;
    cur public.daily_checkins;
    old_fields jsonb;
    new_fields jsonb;
    v_date date;
    v_type text;
BEGIN
    IF jsonb_typeof(a) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;
    v_id := core.checkin_parse_id(a ->> 'id');
    -- Lock the row: concurrent updates and deletions of it (from either mode) run one after the other.
    SELECT d.* INTO cur FROM public.daily_checkins AS d WHERE d.id = v_id AND d.user_id = uid FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;

    -- Validate everything before writing anything (the same rules and order as core.checkin_correct).
    old_fields := core.legacy_fields(cur);
    new_fields := core.validate_checkin(old_fields || core.validate_checkin(a, TRUE), FALSE);
    v_date := CASE
        WHEN jsonb_typeof(a -> 'date_submitted') IS DISTINCT FROM 'null' AND a ? 'date_submitted'
            THEN core.checkin_date(a -> 'date_submitted', uid)
        ELSE cur.date_submitted
    END;
    v_type := coalesce(
        core.check_value('checkin_type', a -> 'checkin_type', 'string', NULL, NULL, 50, NULL, 1) #>> '{}',
        cur.checkin_type
    );

    -- As in V2 (a correction only when something differs), updated_at moves only on a real change.
    IF new_fields IS DISTINCT FROM old_fields OR v_date <> cur.date_submitted OR v_type <> cur.checkin_type THEN
        IF NOT core.legacy_put(v_id, uid, v_date, v_type, cur.created_at, now(), new_fields, FALSE) THEN
            PERFORM core.fail(409, 'You have already submitted a check-in for ' || to_char(v_date, 'YYYY-MM-DD')
                || '. Choose another date_submitted.', 'CHECKIN_EXISTS',
                jsonb_build_object('field', 'date_submitted', 'existing_checkin', core.legacy_existing(uid, v_date)));
        END IF;
    END IF;

    SELECT d.* INTO cur FROM public.daily_checkins AS d WHERE d.id = v_id;
    RETURN jsonb_build_object(
        'success', TRUE,
        'checkin', core.legacy_item(cur),
        'message', 'Check-in updated successfully! 🌟'
    );
END
$$;

ALTER FUNCTION api.v1_update_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_update_checkin(jsonb) IS
'PUT /api/checkins/{id} in V1 mode: args.id + the fields to replace (absent fields keep their value), on '
'daily_checkins. {success, checkin, message}. NV404 unknown id; NV400 invalid field; NV409 CHECKIN_EXISTS when '
'moving onto a taken date.';
