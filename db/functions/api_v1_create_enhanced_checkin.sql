-- POST /api/daily-checkin-enhanced in V1 mode: api.v1_create_checkin storing checkin_type "enhanced".

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.v1_create_enhanced_checkin(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF args IS NOT NULL AND jsonb_typeof(args) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;
    RETURN api.v1_create_checkin(coalesce(args, '{}'::jsonb) || '{"checkin_type": "enhanced"}'::jsonb);
END
$$;

ALTER FUNCTION api.v1_create_enhanced_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.v1_create_enhanced_checkin(jsonb) IS
'POST /api/daily-checkin-enhanced in V1 mode: as api.v1_create_checkin, with checkin_type "enhanced".';
