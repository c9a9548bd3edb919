-- Deleting a row of the legacy table: V1 mode, and the V2 dual write.

CREATE OR REPLACE FUNCTION core.legacy_delete(p_id uuid, p_user_id uuid, p_v2 boolean)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    found_row boolean;
BEGIN
    PERFORM set_config('novara.sync_source', CASE WHEN p_v2 THEN 'v2' ELSE '' END, TRUE);
    DELETE FROM public.daily_checkins AS d WHERE d.id = p_id AND d.user_id = p_user_id;
    found_row := FOUND;
    PERFORM set_config('novara.sync_source', '', TRUE);
    RETURN found_row;
END
$$;

COMMENT ON FUNCTION core.legacy_delete(uuid, uuid, boolean) IS
'Delete the user''s daily_checkins row p_id; TRUE when there was one. p_v2: a V2 dual write (not logged).';
