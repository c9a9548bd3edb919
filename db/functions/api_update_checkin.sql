-- PUT /api/checkins/{id}: partial update, appended to the log as correction events.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.update_checkin(args jsonb DEFAULT '{}'::jsonb)
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
BEGIN
    IF jsonb_typeof(a) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;
    v_id := core.checkin_parse_id(a ->> 'id');
    PERFORM core.checkin_correct(uid, v_id, a);
    RETURN jsonb_build_object(
        'success', TRUE,
        'checkin', core.checkin_get(uid, v_id),
        'message', 'Check-in updated successfully! 🌟'
    );
END
$$;

ALTER FUNCTION api.update_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.update_checkin(jsonb) IS
'PUT /api/checkins/{id}: args.id + the fields to replace (absent fields keep their value). {success, checkin, '
'message}. NV404 unknown id; NV400 invalid field; NV409 CHECKIN_EXISTS when moving onto a taken date.';
