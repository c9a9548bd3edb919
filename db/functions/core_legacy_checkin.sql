-- depends: functions/core_checkin_json.sql
-- The legacy table public.daily_checkins as the V1 API sees it (docs/v1-v2-sync.md): a row's fields, its
-- JSON item (the same core.checkin_item as the V2 read path), and the one write helper that fills the typed
-- columns, extra_fields and fields from a validated field object. Used by the api.v1_* functions (V1 mode)
-- and by the V2 write functions, which keep the table current in the same transaction.

CREATE OR REPLACE FUNCTION core.legacy_smallint(value jsonb)
RETURNS smallint
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' AND (value #>> '{}')::numeric BETWEEN -32768 AND 32767
            AND (value #>> '{}')::numeric = trunc((value #>> '{}')::numeric)
            THEN (value #>> '{}')::numeric::smallint
    END
$$;

COMMENT ON FUNCTION core.legacy_smallint(jsonb) IS
'A JSON integer as smallint for a typed column of daily_checkins; NULL for anything else.';

CREATE OR REPLACE FUNCTION core.legacy_text(value jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' END
$$;

COMMENT ON FUNCTION core.legacy_text(jsonb) IS 'A JSON string as text for a typed column; NULL for anything else.';

CREATE OR REPLACE FUNCTION core.legacy_boolean(value jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'boolean' THEN (value #>> '{}')::boolean END
$$;

COMMENT ON FUNCTION core.legacy_boolean(jsonb) IS 'A JSON boolean for a typed column; NULL for anything else.';

-- The fields of a legacy row: "fields" when the V1 functions or the V2 dual write stored it; else derived from
-- the row: extra_fields, then every answer column that is not null (a column this schema does not know, e.g. a
-- real deployment's extra column, is an extra too); medication_taken 'not tracked' is the column default and
-- means "not answered".
CREATE OR REPLACE FUNCTION core.legacy_fields(d public.daily_checkins)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(
        d.fields,
        coalesce(d.extra_fields, '{}'::jsonb) || coalesce((
            SELECT jsonb_object_agg(c.key, c.value)
            FROM jsonb_each(
                to_jsonb(d) - ARRAY[
                    'id', 'user_id', 'date_submitted', 'checkin_type', 'created_at', 'updated_at', 'extra_fields',
                    'fields'
                ]
            ) AS c
            WHERE c.value <> 'null'::jsonb AND NOT (c.key = 'medication_taken' AND c.value = '"not tracked"'::jsonb)
        ), '{}'::jsonb)
    )
$$;

COMMENT ON FUNCTION core.legacy_fields(public.daily_checkins) IS
'The V1 fields of a daily_checkins row: its "fields" column, or when NULL (another writer) extra_fields merged '
'with every non-null answer column (unknown columns included; medication_taken ''not tracked'' omitted).';

CREATE OR REPLACE FUNCTION core.legacy_item(d public.daily_checkins)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT core.checkin_item(
        d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type, core.legacy_fields(d)
    )
$$;

COMMENT ON FUNCTION core.legacy_item(public.daily_checkins) IS
'A daily_checkins row as the V1 API item {id, fields:{...row...}, ...row...} (core.checkin_item), identical in '
'shape and values to the V2 read path''s item of the same check-in.';

CREATE OR REPLACE FUNCTION core.legacy_existing(p_user_id uuid, p_date date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'id', d.id,
        'mood_today', core.legacy_fields(d) -> 'mood_today',
        'confidence_today', core.legacy_fields(d) -> 'confidence_today',
        'date_submitted', to_char(d.date_submitted, 'YYYY-MM-DD')
    )
    FROM public.daily_checkins AS d
    WHERE d.user_id = p_user_id AND d.date_submitted = p_date
$$;

COMMENT ON FUNCTION core.legacy_existing(uuid, date) IS
'{id, mood_today, confidence_today, date_submitted} of the user''s daily_checkins row on p_date, or NULL.';

-- The typed columns of a legacy row from a field object (the one place this mapping is written): an answer of
-- the column's JSON type fills it, anything else leaves it NULL (its exact value stays in "fields").
CREATE OR REPLACE FUNCTION core.legacy_columns(f jsonb)
RETURNS TABLE (
    extra_fields jsonb,
    mood_today text,
    confidence_today smallint,
    medication_taken text,
    user_note text,
    primary_concern_today text,
    anxiety_level smallint,
    side_effects jsonb,
    missed_doses smallint,
    injection_confidence smallint,
    appointment_within_3_days boolean,
    appointment_anxiety smallint,
    coping_strategies_used jsonb,
    partner_involved_today boolean,
    wish_knew_more_about jsonb,
    phq4_feeling_nervous smallint,
    phq4_stop_worrying smallint,
    phq4_little_interest smallint,
    phq4_feeling_down smallint,
    phq4_score smallint,
    phq4_anxiety smallint,
    phq4_depression smallint
)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT
        coalesce(f, '{}'::jsonb) - ARRAY[
            'mood_today', 'confidence_today', 'medication_taken', 'user_note', 'primary_concern_today',
            'anxiety_level', 'side_effects', 'missed_doses', 'injection_confidence', 'appointment_within_3_days',
            'appointment_anxiety', 'coping_strategies_used', 'partner_involved_today', 'wish_knew_more_about',
            'phq4_feeling_nervous', 'phq4_stop_worrying', 'phq4_little_interest', 'phq4_feeling_down', 'phq4_score',
            'phq4_anxiety', 'phq4_depression'
        ],
        coalesce(core.legacy_text(f -> 'mood_today'), ''),
        coalesce(core.legacy_smallint(f -> 'confidence_today'), 0),
        coalesce(core.legacy_text(f -> 'medication_taken'), 'not tracked'),
        core.legacy_text(f -> 'user_note'),
        core.legacy_text(f -> 'primary_concern_today'),
        core.legacy_smallint(f -> 'anxiety_level'),
        nullif(f -> 'side_effects', 'null'::jsonb),
        core.legacy_smallint(f -> 'missed_doses'),
        core.legacy_smallint(f -> 'injection_confidence'),
        core.legacy_boolean(f -> 'appointment_within_3_days'),
        core.legacy_smallint(f -> 'appointment_anxiety'),
        nullif(f -> 'coping_strategies_used', 'null'::jsonb),
        core.legacy_boolean(f -> 'partner_involved_today'),
        nullif(f -> 'wish_knew_more_about', 'null'::jsonb),
        core.legacy_smallint(f -> 'phq4_feeling_nervous'),
        core.legacy_smallint(f -> 'phq4_stop_worrying'),
        core.legacy_smallint(f -> 'phq4_little_interest'),
        core.legacy_smallint(f -> 'phq4_feeling_down'),
        core.legacy_smallint(f -> 'phq4_score'),
        core.legacy_smallint(f -> 'phq4_anxiety'),
        core.legacy_smallint(f -> 'phq4_depression')
$$;

COMMENT ON FUNCTION core.legacy_columns(jsonb) IS
'The typed columns of daily_checkins for a field object (one row): each answer of its column''s JSON type, else '
'NULL (mood_today, confidence_today, medication_taken: '''', 0, ''not tracked''); extra_fields = the other keys.';

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
BEGIN
    PERFORM set_config('novara.sync_source', CASE WHEN p_v2 THEN 'v2' ELSE '' END, TRUE);
    BEGIN
        INSERT INTO public.daily_checkins AS d (
            id, user_id, date_submitted, checkin_type, created_at, updated_at, fields, extra_fields,
            mood_today, confidence_today, medication_taken, user_note, primary_concern_today, anxiety_level,
            side_effects, missed_doses, injection_confidence, appointment_within_3_days, appointment_anxiety,
            coping_strategies_used, partner_involved_today, wish_knew_more_about, phq4_feeling_nervous,
            phq4_stop_worrying, phq4_little_interest, phq4_feeling_down, phq4_score, phq4_anxiety, phq4_depression
        )
        SELECT
            p_id, p_user_id, p_date, coalesce(p_checkin_type, 'standard'), p_created_at, p_updated_at, f,
            c.extra_fields, c.mood_today, c.confidence_today, c.medication_taken, c.user_note,
            c.primary_concern_today, c.anxiety_level, c.side_effects, c.missed_doses, c.injection_confidence,
            c.appointment_within_3_days, c.appointment_anxiety, c.coping_strategies_used, c.partner_involved_today,
            c.wish_knew_more_about, c.phq4_feeling_nervous, c.phq4_stop_worrying, c.phq4_little_interest,
            c.phq4_feeling_down, c.phq4_score, c.phq4_anxiety, c.phq4_depression
        FROM core.legacy_columns(f) AS c
        ON CONFLICT (id) DO UPDATE SET
            user_id = excluded.user_id,
            date_submitted = excluded.date_submitted,
            checkin_type = excluded.checkin_type,
            created_at = excluded.created_at,
            updated_at = excluded.updated_at,
            fields = excluded.fields,
            extra_fields = excluded.extra_fields,
            mood_today = excluded.mood_today,
            confidence_today = excluded.confidence_today,
            medication_taken = excluded.medication_taken,
            user_note = excluded.user_note,
            primary_concern_today = excluded.primary_concern_today,
            anxiety_level = excluded.anxiety_level,
            side_effects = excluded.side_effects,
            missed_doses = excluded.missed_doses,
            injection_confidence = excluded.injection_confidence,
            appointment_within_3_days = excluded.appointment_within_3_days,
            appointment_anxiety = excluded.appointment_anxiety,
            coping_strategies_used = excluded.coping_strategies_used,
            partner_involved_today = excluded.partner_involved_today,
            wish_knew_more_about = excluded.wish_knew_more_about,
            phq4_feeling_nervous = excluded.phq4_feeling_nervous,
            phq4_stop_worrying = excluded.phq4_stop_worrying,
            phq4_little_interest = excluded.phq4_little_interest,
            phq4_feeling_down = excluded.phq4_feeling_down,
            phq4_score = excluded.phq4_score,
            phq4_anxiety = excluded.phq4_anxiety,
            phq4_depression = excluded.phq4_depression;
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
'Insert or replace daily_checkins row p_id from validated fields (fields verbatim, typed columns, the rest in '
'extra_fields). p_v2: a V2 dual write (the change log skips it). FALSE, nothing written, when (user, date) '
'belongs to another row.';

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
