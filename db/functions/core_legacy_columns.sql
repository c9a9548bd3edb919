-- The typed columns of a daily_checkins row for a field object.

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
