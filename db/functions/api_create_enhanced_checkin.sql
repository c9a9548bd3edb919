-- POST /api/daily-checkin-enhanced: POST /api/checkins storing checkin_type "enhanced".

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.create_enhanced_checkin(args jsonb DEFAULT '{}'::jsonb)
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
    RETURN api.create_checkin(coalesce(args, '{}'::jsonb) || '{"checkin_type": "enhanced"}'::jsonb);
END
$$;

ALTER FUNCTION api.create_enhanced_checkin(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.create_enhanced_checkin(jsonb) IS
'POST /api/daily-checkin-enhanced: as api.create_checkin, with checkin_type "enhanced". Same errors.';
