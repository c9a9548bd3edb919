-- PATCH /api/users/cycle-stage: the treatment stage, and the medication status it implies.

CREATE OR REPLACE FUNCTION api.update_cycle_stage(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    stage jsonb := core.require_value('cycle_stage', coalesce(args, '{}'::jsonb) -> 'cycle_stage');
    derived text;
    changes jsonb;
    updated timestamptz;
BEGIN
    derived := core.derived_medication_status(stage #>> '{}');
    changes := jsonb_build_object('cycle_stage', stage);
    IF derived IS NOT NULL THEN
        changes := changes || jsonb_build_object('medication_status', derived);
    END IF;
    -- apply_profile refuses a stage outside the enum (NV400 naming cycle_stage) before writing anything.
    PERFORM core.apply_profile(uid, changes);

    SELECT p.cycle_stage_updated INTO updated FROM public.user_profiles AS p WHERE p.user_id = uid;
    RETURN jsonb_build_object(
        'success', TRUE,
        'message', 'Cycle stage updated successfully',
        'cycle_stage', stage #>> '{}',
        'derived_medication_status', derived,
        'cycle_stage_updated', core.iso(updated)
    );
END
$$;

ALTER FUNCTION api.update_cycle_stage(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.update_cycle_stage(jsonb) IS
'PATCH /api/users/cycle-stage: {cycle_stage} -> {success, message, cycle_stage, derived_medication_status, '
'cycle_stage_updated}; also stores the derived medication status. NV400 cycle_stage is required / not in the enum.';
