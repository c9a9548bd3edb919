-- One live check-in of the event log as its V1 item.

CREATE OR REPLACE FUNCTION core.checkin_get(p_user_id uuid, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    item jsonb;
BEGIN
    SELECT core.checkin_item(c.id, c.user_id, c.date_submitted, c.created_at, c.updated_at, c.checkin_type, c.fields)
    INTO item
    FROM public.daily_checkins_legacy AS c
    WHERE c.id = p_id AND c.user_id = p_user_id;
    RETURN item;
END
$$;

COMMENT ON FUNCTION core.checkin_get(uuid, uuid) IS
'The item of the user''s live check-in p_id (read from daily_checkins_legacy), or NULL when there is none.';
