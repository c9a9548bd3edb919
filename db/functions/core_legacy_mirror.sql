-- The V2 dual write (docs/v1-v2-sync.md): a check-in's legacy row made equal to its state in the event log.

-- The V2 dual write: make the legacy row of check-in p_id equal to its V2 state (daily_checkins_legacy), or
-- delete it when the check-in is not live. FALSE when another legacy row holds the user's date.
CREATE OR REPLACE FUNCTION core.legacy_mirror(p_user_id uuid, p_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    c record;
BEGIN
    SELECT v.id, v.date_submitted, v.checkin_type, v.created_at, v.updated_at, v.fields INTO c
    FROM public.daily_checkins_legacy AS v
    WHERE v.id = p_id AND v.user_id = p_user_id;
    IF NOT FOUND THEN
        PERFORM core.legacy_delete(p_id, p_user_id, TRUE);
        RETURN TRUE;
    END IF;
    RETURN core.legacy_put(
        p_id, p_user_id, c.date_submitted, c.checkin_type, c.created_at, c.updated_at, c.fields, TRUE
    );
END
$$;

COMMENT ON FUNCTION core.legacy_mirror(uuid, uuid) IS
'V2 dual write: copy check-in p_id''s V2 state (daily_checkins_legacy) into daily_checkins without logging it, '
'or delete the legacy row when the check-in is not live. FALSE when another legacy row holds that date.';
