-- The writer of the legacy table's rows: the api.v1_* functions (V1 mode), and the V2 write functions, which keep
-- the table current in the same transaction (the dual write, docs/v1-v2-sync.md). The V1 check-in's columns are
-- those of the view public.daily_checkins_legacy, where they are defined; the fields it is given are validated
-- (core.validate_checkin), so jsonb_populate_record turns them into the row.

-- Insert or replace the row p_id. p_v2: the write comes from the V2 path (already in the event log), so the
-- change-log triggers skip it. Returns FALSE, writing nothing, when another row holds (user, date).
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
    f jsonb := coalesce(p_fields, '{}'::jsonb);
    own jsonb;
    answers jsonb;
    cols text;
    sets text;
    vals text;
BEGIN
    -- The row's own columns, then the V1 check-in's: the other columns of a daily_checkins_legacy row, filled
    -- from the fields (validated, so each answer has its column's type).
    own := jsonb_build_object(
        'id', p_id, 'user_id', p_user_id, 'date_submitted', p_date,
        'checkin_type', coalesce(p_checkin_type, 'standard'), 'created_at', p_created_at, 'updated_at', p_updated_at,
        'fields', f, 'extra_fields', NULL
    );
    answers := to_jsonb(
        jsonb_populate_record(NULL::public.daily_checkins_legacy, f - ARRAY(SELECT jsonb_object_keys(own)))
    ) - ARRAY(SELECT jsonb_object_keys(own));
    own := own || jsonb_build_object('extra_fields', f - ARRAY(SELECT jsonb_object_keys(answers)));
    -- The statement names those columns and nothing else: a column this schema does not know (a deployment's
    -- own) keeps its default, or its value on an update.
    SELECT
        string_agg(format('%I', k.col), ', ' ORDER BY k.col),
        string_agg(format('%I', k.col), ', ' ORDER BY k.col) FILTER (WHERE k.col <> 'id'),
        string_agg(format('excluded.%I', k.col), ', ' ORDER BY k.col) FILTER (WHERE k.col <> 'id')
    INTO cols, sets, vals
    FROM jsonb_object_keys(answers || own) AS k (col);
    -- Unanswered: NULL, except in the three NOT NULL columns of the V1 schema ('', 0, 'not tracked').
    answers := jsonb_build_object('mood_today', '', 'confidence_today', 0, 'medication_taken', 'not tracked')
        || coalesce(
            (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(answers) AS e WHERE e.value <> 'null'::jsonb), '{}'
        );

    PERFORM set_config('novara.sync_source', CASE WHEN p_v2 THEN 'v2' ELSE '' END, TRUE);
    BEGIN
        EXECUTE format(
            'INSERT INTO public.daily_checkins AS d (%1$s) '
            'SELECT %1$s FROM jsonb_populate_record(NULL::public.daily_checkins, $1) '
            'ON CONFLICT (id) DO UPDATE SET (%2$s) = ROW(%3$s)',
            cols, sets, vals
        ) USING answers || own;
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
'Insert or replace daily_checkins row p_id from validated fields (fields verbatim, the typed columns of '
'daily_checkins_legacy, the other keys in extra_fields). p_v2: a V2 dual write (the change log skips it). FALSE, '
'nothing written, when (user, date) belongs to another row.';
