-- GET /api/checkins/{id}.

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.get_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    item jsonb;
BEGIN
    item := core.checkin_get(uid, core.checkin_parse_id(coalesce(args, '{}'::jsonb) ->> 'id'));
    IF item IS NULL THEN
        PERFORM core.fail(404, 'Check-in not found', 'NOT_FOUND');
    END IF;
    RETURN jsonb_build_object('success', TRUE, 'checkin', item);
END
$$;

ALTER FUNCTION api.get_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.get_checkin(jsonb) IS
'GET /api/checkins/{id}: args.id. {success, checkin: {id, fields: row, ...row}} from daily_checkins; read-only. '
'NV404 Check-in not found for a malformed, unknown, deleted or other user''s id.';
