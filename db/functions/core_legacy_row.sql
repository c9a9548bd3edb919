-- A check-in as the complete row of public.daily_checkins, in JSON: what core.legacy_put writes (V1 mode and the V2
-- functions alike) and what the benchmark's set-based loader inserts (novara/seed.sql), written once. The V1
-- check-in's columns are those of the view public.daily_checkins_legacy, where they are defined; the fields it is
-- given are validated (core.validate_checkin) or a legacy row's own, so jsonb_populate_record turns them into the
-- typed columns.

CREATE OR REPLACE FUNCTION core.legacy_row(
    p_id uuid,
    p_user_id uuid,
    p_date date,
    p_checkin_type text,
    p_created_at timestamptz,
    p_updated_at timestamptz,
    p_fields jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    f jsonb := coalesce(p_fields, '{}'::jsonb);
    own jsonb;
    answers jsonb;
BEGIN
    -- The row's own columns, then the V1 check-in's: the other columns of a daily_checkins_legacy row, filled
    -- from the fields (JSON null when not answered), and the other keys of the fields as extra_fields.
    own := jsonb_build_object(
        'id', p_id, 'user_id', p_user_id, 'date_submitted', p_date,
        'checkin_type', coalesce(p_checkin_type, 'standard'), 'created_at', p_created_at, 'updated_at', p_updated_at,
        'fields', f, 'extra_fields', NULL
    );
    answers := to_jsonb(
        jsonb_populate_record(NULL::public.daily_checkins_legacy, f - ARRAY(SELECT jsonb_object_keys(own)))
    ) - ARRAY(SELECT jsonb_object_keys(own));
    own := own || jsonb_build_object('extra_fields', f - ARRAY(SELECT jsonb_object_keys(answers)));
    -- Unanswered: NULL, except in the three NOT NULL columns of the V1 schema ('', 0, 'not tracked').
    RETURN answers
        || coalesce((
            SELECT jsonb_object_agg(d.col, d.value)
            FROM (VALUES ('mood_today', '""'::jsonb), ('confidence_today', '0'), ('medication_taken', '"not tracked"'))
                AS d (col, value)
            WHERE coalesce(answers -> d.col, 'null'::jsonb) = 'null'::jsonb
        ), '{}'::jsonb)
        || own;
END
$$;

COMMENT ON FUNCTION core.legacy_row(uuid, uuid, date, text, timestamptz, timestamptz, jsonb) IS
'A check-in as the JSON of its daily_checkins row: id, user_id, date_submitted, checkin_type (default standard), '
'created_at, updated_at, fields verbatim, a key per typed column of daily_checkins_legacy (JSON null when not '
'answered; '''', 0 and ''not tracked'' in the three NOT NULL columns), the other keys of the fields in extra_fields. '
'For jsonb_populate_record(NULL::public.daily_checkins, ...).';
