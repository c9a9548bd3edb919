-- The writer of the check-ins' rows in public.daily_checkins, the read model of both modes: the api.v1_* functions
-- (V1 mode) and the V2 write functions (core.checkin_create, core.checkin_correct), which write the row in the same
-- transaction as the check-in's events. The row is core.legacy_row's.

-- Insert or replace the row p_id. p_v2: the write comes from the V2 path (its events are in the log already), so
-- the change-log triggers skip it. Returns FALSE, writing nothing, when another row holds (user, date).
CREATE OR REPLACE FUNCTION core.legacy_put(
    p_id uuid,
    p_user_id uuid,
    p_date date,
    p_checkin_type text,
    p_created_at timestamptz,
    p_updated_at timestamptz,
    p_fields jsonb,
    p_v2 boolean
)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    r jsonb := core.legacy_row(p_id, p_user_id, p_date, p_checkin_type, p_created_at, p_updated_at, p_fields);
    cols text;
    sets text;
    vals text;
BEGIN
    -- The statement names the row's columns and nothing else: a column this schema does not know (a deployment's
    -- own) keeps its default, or its value on an update.
    SELECT
        string_agg(format('%I', k.col), ', ' ORDER BY k.col),
        string_agg(format('%I', k.col), ', ' ORDER BY k.col) FILTER (WHERE k.col <> 'id'),
        string_agg(format('excluded.%I', k.col), ', ' ORDER BY k.col) FILTER (WHERE k.col <> 'id')
    INTO cols, sets, vals
    FROM jsonb_object_keys(r) AS k (col);

    PERFORM set_config('novara.sync_source', CASE WHEN p_v2 THEN 'v2' ELSE '' END, TRUE);
    BEGIN
        EXECUTE format(
            'INSERT INTO public.daily_checkins AS d (%1$s) '
            'SELECT %1$s FROM jsonb_populate_record(NULL::public.daily_checkins, $1) '
            'ON CONFLICT (id) DO UPDATE SET (%2$s) = ROW(%3$s)',
            cols, sets, vals
        ) USING r;
    EXCEPTION WHEN unique_violation THEN
        -- (user_id, date_submitted) is another row's: a concurrent or not yet imported write won the day.
        PERFORM set_config('novara.sync_source', '', TRUE);
        RETURN FALSE;
    END;
    PERFORM set_config('novara.sync_source', '', TRUE);
    RETURN TRUE;
END
$$;

COMMENT ON FUNCTION core.legacy_put(uuid, uuid, date, text, timestamptz, timestamptz, jsonb, boolean) IS
'Insert or replace daily_checkins row p_id with core.legacy_row of the given state (fields verbatim, the typed '
'columns of daily_checkins_legacy, the other keys in extra_fields). p_v2: a write of the V2 functions, whose events '
'are in the log (the change log skips it). FALSE, nothing written, when (user, date) belongs to another row.';
