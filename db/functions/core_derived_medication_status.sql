-- The medication status a cycle stage implies.

CREATE OR REPLACE FUNCTION core.derived_medication_status(p_cycle_stage text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT CASE p_cycle_stage
        WHEN 'considering' THEN 'not_taking'
        WHEN 'ivf_prep' THEN 'starting_soon'
        WHEN 'stimulation' THEN 'taking'
        WHEN 'retrieval' THEN 'taking'
        WHEN 'transfer' THEN 'taking'
        WHEN 'tww' THEN 'taking'
        WHEN 'pregnant' THEN 'pregnancy_support'
        WHEN 'between_cycles' THEN 'between_cycles'
    END
$$;

COMMENT ON FUNCTION core.derived_medication_status(text) IS
'Medication status implied by a cycle stage: considering -> not_taking, ivf_prep -> starting_soon, '
'stimulation/retrieval/transfer/tww -> taking, pregnant -> pregnancy_support, between_cycles -> between_cycles; '
'NULL for anything else.';
