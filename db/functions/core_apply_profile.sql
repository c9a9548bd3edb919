-- Profile fields (contract section 2): one rule, in one place, for signup and every profile update route.

CREATE OR REPLACE FUNCTION core.apply_profile(p_user_id uuid, p_fields jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    fields jsonb := coalesce(p_fields, '{}'::jsonb);
    applied jsonb := '{}'::jsonb;
    k text;
    v jsonb;
    tz text;
    cur public.user_profiles%ROWTYPE;
BEGIN
    IF jsonb_typeof(fields) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;

    -- Validate every field before anything is written. Order is fixed, so the first error is predictable.
    FOREACH k IN ARRAY ARRAY[
        'nickname', 'timezone', 'email_opt_in', 'confidence_meds', 'confidence_costs', 'confidence_overall',
        'primary_need', 'cycle_stage', 'top_concern', 'medication_status', 'onboarding_path', 'baseline_completed'
    ] LOOP
        CONTINUE WHEN NOT fields ? k;
        v := fields -> k;
        -- A blank string means "not answered", like null.
        IF jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\s*$' THEN
            v := 'null'::jsonb;
        END IF;
        CASE k
        WHEN 'nickname' THEN
            v := core.check_value(k, v, 'string');
            IF jsonb_typeof(v) = 'string' THEN
                v := to_jsonb(regexp_replace(v #>> '{}', '^\s+|\s+$', '', 'g'));
                IF char_length(v #>> '{}') > 50 THEN
                    PERFORM core.fail(400, 'Nickname too long (max 50 characters)', 'VALIDATION_ERROR',
                        jsonb_build_object('field', k));
                END IF;
            END IF;
        WHEN 'confidence_meds', 'confidence_costs', 'confidence_overall' THEN
            v := core.check_value(k, v, 'integer', min_value => 1, max_value => 10);
        WHEN 'timezone' THEN
            v := core.check_value(k, v, 'string', max_length => 64);
            IF jsonb_typeof(v) = 'string' THEN
                -- IANA names are matched case-insensitively and stored in their canonical spelling.
                SELECT t.name INTO tz
                FROM public.timezones AS t
                WHERE lower(t.name) = lower(btrim(v #>> '{}'))
                ORDER BY t.name = btrim(v #>> '{}') DESC
                LIMIT 1;
                IF tz IS NULL THEN
                    PERFORM core.fail(400,
                        'timezone must be an IANA time zone name such as America/Los_Angeles (got '
                        || quote_literal(v #>> '{}') || ')',
                        'VALIDATION_ERROR', jsonb_build_object('field', k));
                END IF;
                v := to_jsonb(tz);
            END IF;
        WHEN 'email_opt_in', 'baseline_completed' THEN
            v := core.check_value(k, v, 'boolean');
        WHEN 'cycle_stage' THEN
            v := core.check_value(k, v, 'enum', allowed => ARRAY[
                'considering', 'ivf_prep', 'stimulation', 'retrieval', 'transfer', 'tww', 'pregnant',
                'between_cycles'
            ]);
        WHEN 'medication_status' THEN
            v := core.check_value(k, v, 'enum', allowed => ARRAY[
                'taking', 'starting_soon', 'not_taking', 'between_cycles', 'finished_treatment',
                'pregnancy_support'
            ]);
        WHEN 'primary_need', 'onboarding_path' THEN
            v := core.check_value(k, v, 'string', max_length => 100);
        WHEN 'top_concern' THEN
            v := core.check_value(k, v, 'string', max_length => 200);
        END CASE;
        -- null clears a field that may be empty; for one that may not, it means "not given".
        CONTINUE WHEN jsonb_typeof(v) = 'null' AND k IN (
            'timezone', 'email_opt_in', 'confidence_meds', 'confidence_costs', 'confidence_overall',
            'baseline_completed'
        );
        applied := applied || jsonb_build_object(k, v);
    END LOOP;

    IF p_user_id IS NULL THEN
        RETURN applied;  -- validation only (signup checks the body before creating the account)
    END IF;

    IF NOT EXISTS (SELECT 1 FROM public.users AS u WHERE u.id = p_user_id) THEN
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;
    INSERT INTO public.user_profiles (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT p.* INTO cur FROM public.user_profiles AS p WHERE p.user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;

    IF applied ? 'nickname' THEN
        cur.nickname := applied ->> 'nickname';
    END IF;
    IF applied ? 'timezone' THEN
        cur.timezone := applied ->> 'timezone';
    END IF;
    IF applied ? 'email_opt_in' THEN
        cur.email_opt_in := (applied ->> 'email_opt_in')::boolean;
    END IF;
    IF applied ? 'confidence_meds' THEN
        cur.confidence_meds := (applied ->> 'confidence_meds')::smallint;
    END IF;
    IF applied ? 'confidence_costs' THEN
        cur.confidence_costs := (applied ->> 'confidence_costs')::smallint;
    END IF;
    IF applied ? 'confidence_overall' THEN
        cur.confidence_overall := (applied ->> 'confidence_overall')::smallint;
    END IF;
    IF applied ? 'primary_need' THEN
        cur.primary_need := applied ->> 'primary_need';
    END IF;
    IF applied ? 'top_concern' THEN
        cur.top_concern := applied ->> 'top_concern';
    END IF;
    IF applied ? 'onboarding_path' THEN
        cur.onboarding_path := applied ->> 'onboarding_path';
    END IF;
    IF applied ? 'cycle_stage' AND (applied ->> 'cycle_stage') IS DISTINCT FROM cur.cycle_stage THEN
        cur.cycle_stage := applied ->> 'cycle_stage';
        cur.cycle_stage_updated := now();
    END IF;
    IF applied ? 'medication_status' AND (applied ->> 'medication_status') IS DISTINCT FROM cur.medication_status THEN
        cur.medication_status := applied ->> 'medication_status';
        cur.medication_status_updated := now();
    END IF;
    -- An explicit baseline_completed wins; otherwise it turns true once the baseline answers are all there.
    IF applied ? 'baseline_completed' THEN
        cur.baseline_completed := (applied ->> 'baseline_completed')::boolean;
    ELSIF cur.nickname IS NOT NULL AND cur.primary_need IS NOT NULL AND cur.cycle_stage IS NOT NULL
        AND cur.confidence_meds IS NOT NULL AND cur.confidence_costs IS NOT NULL
        AND cur.confidence_overall IS NOT NULL THEN
        cur.baseline_completed := TRUE;
    END IF;

    UPDATE public.user_profiles AS p SET
        nickname = cur.nickname,
        timezone = cur.timezone,
        email_opt_in = cur.email_opt_in,
        confidence_meds = cur.confidence_meds,
        confidence_costs = cur.confidence_costs,
        confidence_overall = cur.confidence_overall,
        primary_need = cur.primary_need,
        cycle_stage = cur.cycle_stage,
        top_concern = cur.top_concern,
        medication_status = cur.medication_status,
        onboarding_path = cur.onboarding_path,
        baseline_completed = cur.baseline_completed,
        cycle_stage_updated = cur.cycle_stage_updated,
        medication_status_updated = cur.medication_status_updated,
        updated_at = now()
    WHERE p.user_id = p_user_id;
    RETURN applied;
END
$$;

COMMENT ON FUNCTION core.apply_profile(uuid, jsonb) IS
'Validate the profile fields of a JSON object (nickname <= 50, confidences 1-10, IANA timezone, enums, ...; '
'unknown keys and email ignored; null or blank clears a nullable field, else means "not given") and apply them '
'to the user''s profile, stamping cycle_stage/medication_status changes and completing the baseline when its '
'answers are all set. p_user_id NULL: validate only. Returns the applied fields; NV400 naming the field.';
