-- Profile fields: one rule, in one place (the public.profile_fields registry), for signup and every profile
-- update route.

CREATE OR REPLACE FUNCTION core.apply_profile(p_user_id uuid, p_fields jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    fields jsonb := coalesce(p_fields, '{}'::jsonb);
    applied jsonb := '{}'::jsonb;
    f public.profile_fields%ROWTYPE;
    v jsonb;
    tz text;
    cur public.user_profiles%ROWTYPE;
    prev public.user_profiles%ROWTYPE;
BEGIN
    IF jsonb_typeof(fields) <> 'object' THEN
        PERFORM core.fail(400, 'Invalid JSON body', 'VALIDATION_ERROR');
    END IF;

    -- Validate every field before anything is written, in the registry's order, so the first error is predictable.
    FOR f IN SELECT pf.* FROM public.profile_fields AS pf ORDER BY pf.position LOOP
        CONTINUE WHEN NOT fields ? f.field;
        v := fields -> f.field;
        -- A blank string means "not answered", like null.
        IF jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\s*$' THEN
            v := 'null'::jsonb;
        END IF;
        IF f.kind = 'timezone' THEN
            v := core.check_value(f.field, v, 'string', max_length => f.max_length);
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
                        'VALIDATION_ERROR', jsonb_build_object('field', f.field));
                END IF;
                v := to_jsonb(tz);
            END IF;
        ELSIF f.field = 'nickname' THEN
            -- trimmed first; the contract's own message for a long one
            v := core.check_value(f.field, v, 'string');
            IF jsonb_typeof(v) = 'string' THEN
                v := to_jsonb(regexp_replace(v #>> '{}', '^\s+|\s+$', '', 'g'));
                IF char_length(v #>> '{}') > f.max_length THEN
                    PERFORM core.fail(400, 'Nickname too long (max ' || f.max_length || ' characters)',
                        'VALIDATION_ERROR', jsonb_build_object('field', f.field));
                END IF;
            END IF;
        ELSE
            v := core.check_value(
                f.field, v, f.kind, min_value => f.min_value, max_value => f.max_value, max_length => f.max_length,
                allowed => f.allowed
            );
        END IF;
        -- null clears a field that may be empty; for one that may not, it means "not given".
        CONTINUE WHEN jsonb_typeof(v) = 'null' AND NOT f.clearable;
        applied := applied || jsonb_build_object(f.field, v);
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

    prev := cur;
    cur := jsonb_populate_record(cur, applied);  -- every applied field is a column of user_profiles
    IF cur.cycle_stage IS DISTINCT FROM prev.cycle_stage THEN
        cur.cycle_stage_updated := now();
    END IF;
    IF cur.medication_status IS DISTINCT FROM prev.medication_status THEN
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
'Validate the profile fields of a JSON object against public.profile_fields (kind, bounds, accepted values; '
'unknown keys and email ignored; null or blank clears a nullable field, else means "not given") and apply them '
'to the user''s profile, stamping cycle_stage/medication_status changes and completing the baseline when its '
'answers are all set. p_user_id NULL: validate only. Returns the applied fields; NV400 naming the field.';
