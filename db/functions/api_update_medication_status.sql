-- PATCH /api/users/medication-status: the medication status.

CREATE OR REPLACE FUNCTION api.update_medication_status(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid := core.require_user();
    status jsonb := core.require_value('medication_status', coalesce(args, '{}'::jsonb) -> 'medication_status');
    updated timestamptz;
BEGIN
    PERFORM core.apply_profile(uid, jsonb_build_object('medication_status', status));

    SELECT p.medication_status_updated INTO updated FROM public.user_profiles AS p WHERE p.user_id = uid;
    RETURN jsonb_build_object(
        'success', TRUE,
        'message', 'Medication status updated successfully',
        'medication_status', status #>> '{}',
        'medication_status_updated', core.iso(updated)
    );
END
$$;

ALTER FUNCTION api.update_medication_status(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.update_medication_status(jsonb) IS
'PATCH /api/users/medication-status: {medication_status} -> {success, message, medication_status, '
'medication_status_updated}. NV400 medication_status is required / not in the enum; NV401/NV404.';
