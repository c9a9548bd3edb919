-- The writer of the legacy table's rows: the api.v1_* functions (V1 mode), and the V2 write functions, which keep
-- the table current in the same transaction (the dual write, docs/v1-v2-sync.md).

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
