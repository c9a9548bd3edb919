-- DELETE /api/checkins/{id} in V1 mode: the legacy row goes; the date is free again.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_delete_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    IF NOT core.legacy_delete(core.checkin_parse_id(coalesce(args, '{}'::jsonb) ->> 'id'), uid, FALSE) THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    RETURN jsonb_build_object('success', TRUE, 'message', 'Check-in deleted successfully');
END
$$;

ALTER FUNCTION api.v1_delete_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_delete_checkin(jsonb) IS
'DELETE /api/checkins/{id} in V1 mode: deletes the caller''s daily_checkins row args.id. {success, message}. '
'NV404 Check-in not found for a malformed, unknown or other user''s id.';
