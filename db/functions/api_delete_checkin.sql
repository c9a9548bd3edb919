-- DELETE /api/checkins/{id}: retracts the check-in's events; the date is free again.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.delete_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
BEGIN
    PERFORM core.checkin_retract(uid, core.checkin_parse_id(coalesce(args, '{}'::jsonb) ->> 'id'));
    RETURN jsonb_build_object('success', TRUE, 'message', 'Check-in deleted successfully');
END
$$;

ALTER FUNCTION api.delete_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.delete_checkin(jsonb) IS
'DELETE /api/checkins/{id}: args.id. {success, message}; appends a retract event per live event and frees '
'the date. NV404 Check-in not found for a malformed, unknown or other user''s id.';
