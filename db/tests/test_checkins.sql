-- V1 daily check-ins written as events (design-v2.md "A V1 check-in as events").

-- event_data against its type's registry rules (required keys; per-key type, bounds, length, enum, items),
-- checked with core.check_value. Raises NV400 when invalid.
CREATE OR REPLACE FUNCTION tests.checkin_event_valid(etype text, data jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb := (SELECT t.rules FROM public.event_types AS t WHERE t.event_type = etype);
    k text;
    p jsonb;
BEGIN
    PERFORM tests.assert_true(r IS NOT NULL, 'registered type ' || etype);
    FOR k IN SELECT jsonb_array_elements_text(coalesce(r -> 'required', '[]')) LOOP
        PERFORM tests.assert_true(data ? k AND jsonb_typeof(data -> k) <> 'null', etype || ' requires ' || k);
    END LOOP;
    FOR k, p IN SELECT e.key, e.value FROM jsonb_each(coalesce(r -> 'properties', '{}')) AS e LOOP
        IF data ? k THEN
            PERFORM core.check_value(
                k, data -> k,
                CASE WHEN p ->> 'type' = 'array' AND p ->> 'items' = 'string' THEN 'string_array'
                    WHEN p ? 'enum' THEN 'enum' ELSE p ->> 'type' END,
                (p ->> 'minimum')::numeric, (p ->> 'maximum')::numeric, (p ->> 'maxLength')::integer,
                ARRAY(SELECT jsonb_array_elements_text(coalesce(p -> 'enum', '[]'))),
                (p ->> 'minLength')::integer
            );
            PERFORM tests.assert_true(
                data -> k = core.check_value(
                    k, data -> k, CASE WHEN p ? 'enum' THEN 'string' ELSE coalesce(p ->> 'type', 'string') END
                ) OR p ->> 'type' = 'array',
                etype || '.' || k || ' has its exact type'
            );
        END IF;
    END LOOP;
END
$$;

-- Every check-in field (public.checkin_fields), the "also accepted" ones and extras: the 18-field round trip payload.
CREATE OR REPLACE FUNCTION tests.checkin_full_payload()
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT $j${
        "mood_today": "hopeful, anxious",
        "confidence_today": 7,
        "medication_taken": "partial",
        "user_note": "Line one\nLine two\n\ttabbed — ünïcødé 🌟 \"quoted\" back\\slash",
        "date_submitted": "2026-01-15",
        "primary_concern_today": "costs",
        "anxiety_level": 6,
        "side_effects": ["bloating", "headache\nat night"],
        "missed_doses": 0,
        "injection_confidence": 9,
        "appointment_within_3_days": true,
        "appointment_anxiety": 8,
        "coping_strategies_used": ["walk\noutside", "breathing", ""],
        "partner_involved_today": false,
        "wish_knew_more_about": ["success rates", "nutrition"],
        "phq4_feeling_nervous": 2,
        "phq4_stop_worrying": 1,
        "phq4_little_interest": 0,
        "phq4_feeling_down": 3,
        "phq4_score": 6,
        "phq4_anxiety": 3,
        "phq4_depression": 3,
        "journey_reflection_today": "It was a long day.\nBut okay.",
        "medication_confidence_today": 8,
        "medication_readiness_today": "ready-ish",
        "financial_confidence_today": 3,
        "journey_confidence_today": "7",
        "financial_stress_today": 10,
        "journey_readiness_today": 1,
        "medication_concern_today": "timing",
        "financial_concern_today": "insurance",
        "top_concern_today": "waiting",
        "medication_momentum": "steady",
        "financial_momentum": "down",
        "journey_momentum": "up",
        "cycle_stage_update": "stimulation",
        "physical_symptoms": ["cramps", {"name": "fatigue", "level": 3}, 4],
        "symptom_severity": {"cramps": 2, "nested": {"a": [1, null, "x"]}},
        "sentiment_analysis": {"sentiment": "neutral", "confidence": 0.42},
        "my_extra_text": "free\ntext",
        "my_extra_number": 3.25,
        "my_extra_null": null,
        "my_extra_list": [1, "two", {"three": 3}],
        "my_extra_object": {"deep": {"deeper": [true, false]}},
        "Ключ с пробелами": "значение"
    }$j$::jsonb
$$;

CREATE OR REPLACE FUNCTION tests.test_create_happy_path()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    r jsonb;
    c jsonb;
BEGIN
    r := api.create_checkin('{"mood_today": "hopeful", "confidence_today": 7}');
    c := r -> 'checkin';
    PERFORM tests.assert_eq(r -> 'success', 'true'::jsonb, 'success');
    PERFORM tests.assert_eq(r ->> 'message', 'Daily check-in completed successfully! 🌟', 'message');
    PERFORM tests.assert_true(NOT r ? 'sentiment_analysis', 'no sentiment block');
    PERFORM tests.assert_eq(c ->> 'mood_today', 'hopeful');
    PERFORM tests.assert_eq(c -> 'confidence_today', '7'::jsonb);
    PERFORM tests.assert_eq(c ->> 'medication_taken', 'not tracked', 'default medication_taken');
    PERFORM tests.assert_eq(c ->> 'checkin_type', 'standard');
    PERFORM tests.assert_eq(c ->> 'user_id', uid::text);
    PERFORM tests.assert_eq(c ->> 'date_submitted', to_char(core.local_date(uid), 'YYYY-MM-DD'), 'local today');
    PERFORM tests.assert_true(
        c ->> 'created_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$', 'created_at is ISO'
    );
    PERFORM tests.assert_json_eq(c -> 'fields', c - 'fields', 'fields holds the row');
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(c -> 'fields') AS k),
        '["checkin_type", "confidence_today", "created_at", "date_submitted", "id", "medication_taken",
          "mood_today", "updated_at", "user_id"]',
        'row keys'
    );
    -- read back from the database: identical to GET
    PERFORM tests.assert_json_eq(api.get_checkin(jsonb_build_object('id', c ->> 'id')) -> 'checkin', c, 'GET');
    -- the list carries the row once per list: records {id, fields: row}, checkins the row flat
    PERFORM tests.assert_json_eq(api.list_checkins() -> 'checkins', jsonb_build_array(c - 'fields'), 'list');
    PERFORM tests.assert_json_eq(api.list_checkins() -> 'records',
        jsonb_build_array(jsonb_build_object('id', c -> 'id', 'fields', c -> 'fields')), 'records');
    PERFORM tests.assert_json_eq(api.today_checkin() -> 'checkin', c, 'today');
    PERFORM tests.assert_eq(api.today_checkin() -> 'hasCheckedIn', 'true'::jsonb);
    -- only the mood event: no medication/symptom/assessment field was given
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(jsonb_build_array(e.event_type, e.event_subtype, e.action, e.source, e.source_version))
            FROM public.health_events AS e),
        '[["mood", "daily_checkin", "record", "checkin_v1", "v1-compat"]]'
    );
    PERFORM tests.assert_json_eq(
        (SELECT e.event_data FROM public.health_events AS e),
        '{"mood": "hopeful", "confidence": 7, "checkin_type": "standard",
          "fields": {"mood_today": "hopeful", "confidence_today": 7}}'
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 1::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_positive_sentiment_and_enhanced()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM tests.make_user('pos@example.com');
    r := api.create_enhanced_checkin(
        '{"mood_today": "amazing", "confidence_today": "9", "checkin_type": "standard",
          "sentiment_analysis": {"sentiment": "positive", "confidence": 0.93, "extra": "kept"}}'
    );
    PERFORM tests.assert_eq(
        r ->> 'message', 'Daily check-in completed successfully! 🌟 We love your positive energy today! 🎉'
    );
    PERFORM tests.assert_json_eq(
        r -> 'sentiment_analysis', '{"sentiment": "positive", "confidence": 0.93, "celebration_triggered": true}'
    );
    PERFORM tests.assert_eq(r -> 'checkin' ->> 'checkin_type', 'enhanced', 'the route decides the type');
    PERFORM tests.assert_eq((SELECT c.checkin_type FROM public.daily_checkins AS c), 'enhanced');
    PERFORM tests.assert_eq(r -> 'checkin' -> 'confidence_today', '9'::jsonb, 'integer string became 9');
    PERFORM tests.assert_json_eq(
        r -> 'checkin' -> 'sentiment_analysis',
        '{"sentiment": "positive", "confidence": 0.93, "extra": "kept"}', 'stored verbatim'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_validation_errors()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    missing CONSTANT text := 'Missing required fields: mood_today and confidence_today are required';
    c record;
    e jsonb;
    big jsonb;
BEGIN
    PERFORM tests.make_user('val@example.com');
    FOR c IN
        SELECT * FROM (VALUES
            ('{"confidence_today": 5}', missing),
            ('{"mood_today": "", "confidence_today": 5}', missing),
            ('{"mood_today": "   ", "confidence_today": 5}', missing),
            ('{"mood_today": null, "confidence_today": 5}', missing),
            ('{"mood_today": "ok"}', missing),
            ('{"mood_today": "ok", "confidence_today": null}', missing),
            ('{"mood_today": "ok", "confidence_today": ""}', missing),
            ('{}', missing),
            ('{"mood_today": "ok", "confidence_today": 0}', 'confidence_today must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": 11}', 'confidence_today must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": "11"}', 'confidence_today must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": -3, "anxiety_level": 99}',
                'confidence_today must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": "abc"}', 'confidence_today must be an integer'),
            ('{"mood_today": "ok", "confidence_today": 7.5}', 'confidence_today must be an integer'),
            ('{"mood_today": "ok", "confidence_today": true}', 'confidence_today must be an integer'),
            ('{"mood_today": 5, "confidence_today": 5}', 'mood_today must be a string'),
            ('{"mood_today": ["ok"], "confidence_today": 5}', 'mood_today must be a string'),
            ('{"mood_today": "' || repeat('x', 101) || '", "confidence_today": 5}',
                'mood_today must be at most 100 characters'),
            ('{"mood_today": "ok", "confidence_today": 5, "medication_taken": "maybe"}',
                'medication_taken must be one of: yes, no, partial, not_applicable, not tracked'),
            ('{"mood_today": "ok", "confidence_today": 5, "medication_taken": true}',
                'medication_taken must be one of: yes, no, partial, not_applicable, not tracked'),
            ('{"mood_today": "ok", "confidence_today": 5, "user_note": 12}', 'user_note must be a string'),
            ('{"mood_today": "ok", "confidence_today": 5, "user_note": "' || repeat('n', 5001) || '"}',
                'user_note must be at most 5000 characters'),
            ('{"mood_today": "ok", "confidence_today": 5, "primary_concern_today": "' || repeat('p', 101) || '"}',
                'primary_concern_today must be at most 100 characters'),
            ('{"mood_today": "ok", "confidence_today": 5, "anxiety_level": 11}',
                'anxiety_level must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": 5, "side_effects": "nausea"}',
                'side_effects must be an array'),
            ('{"mood_today": "ok", "confidence_today": 5, "side_effects": ["a", 1]}',
                'side_effects must be an array of strings'),
            ('{"mood_today": "ok", "confidence_today": 5, "missed_doses": 51}',
                'missed_doses must be between 0 and 50'),
            ('{"mood_today": "ok", "confidence_today": 5, "missed_doses": -1}',
                'missed_doses must be between 0 and 50'),
            ('{"mood_today": "ok", "confidence_today": 5, "injection_confidence": 0}',
                'injection_confidence must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": 5, "appointment_within_3_days": "yes"}',
                'appointment_within_3_days must be true or false'),
            ('{"mood_today": "ok", "confidence_today": 5, "appointment_anxiety": 12}',
                'appointment_anxiety must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": 5, "coping_strategies_used": {"a": 1}}',
                'coping_strategies_used must be an array'),
            ('{"mood_today": "ok", "confidence_today": 5, "partner_involved_today": 1}',
                'partner_involved_today must be true or false'),
            ('{"mood_today": "ok", "confidence_today": 5, "wish_knew_more_about": [null]}',
                'wish_knew_more_about must be an array of strings'),
            ('{"mood_today": "ok", "confidence_today": 5, "phq4_feeling_nervous": 4}',
                'phq4_feeling_nervous must be between 0 and 3'),
            ('{"mood_today": "ok", "confidence_today": 5, "phq4_stop_worrying": "x"}',
                'phq4_stop_worrying must be an integer'),
            ('{"mood_today": "ok", "confidence_today": 5, "phq4_score": 13}', 'phq4_score must be between 0 and 12'),
            ('{"mood_today": "ok", "confidence_today": 5, "phq4_depression": 7}',
                'phq4_depression must be between 0 and 6'),
            ('{"mood_today": "ok", "confidence_today": 5, "journey_reflection_today": 11}',
                'journey_reflection_today must be between 1 and 10'),
            ('{"mood_today": "ok", "confidence_today": 5, "financial_stress_today": 2.5}',
                'financial_stress_today must be an integer'),
            ('{"mood_today": "ok", "confidence_today": 5, "journey_readiness_today": ["x"]}',
                'journey_readiness_today must be an integer'),
            ('{"mood_today": "ok", "confidence_today": 5, "physical_symptoms": "cramps"}',
                'physical_symptoms must be an array'),
            ('{"mood_today": "ok", "confidence_today": 5, "symptom_severity": [1]}',
                'symptom_severity must be an object'),
            ('{"mood_today": "ok", "confidence_today": 5, "sentiment_analysis": "positive"}',
                'sentiment_analysis must be an object'),
            ('{"mood_today": "ok", "confidence_today": 5, "cycle_stage_update": 3}',
                'cycle_stage_update must be a string'),
            ('{"mood_today": "ok", "confidence_today": 5, "checkin_type": ""}', 'checkin_type must not be empty'),
            ('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "tomorrow"}',
                'date_submitted must be a date (YYYY-MM-DD)'),
            ('{"mood_today": "ok", "confidence_today": 5, "date_submitted": 20260101}',
                'date_submitted must be a date (YYYY-MM-DD)'),
            ('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-02-30"}',
                'date_submitted must be a real calendar date (YYYY-MM-DD)'),
            ('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "1999-12-31"}',
                'date_submitted must not be before 2000-01-01'),
            ('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2999-01-01"}',
                'date_submitted must not be later than tomorrow'),
            ('{"mood_today": "ok", "confidence_today": 5, "' || repeat('k', 101) || '": 1}',
                'Field names must be at most 100 characters')
        ) AS v (body, message)
    LOOP
        e := tests.error_of(format('SELECT api.create_checkin(%L)', c.body));
        PERFORM tests.assert_eq(e ->> 'state', 'NV400', left(c.body, 120));
        PERFORM tests.assert_eq(e ->> 'message', c.message, left(c.body, 120));
        PERFORM tests.assert_eq(e -> 'detail' ->> 'code', 'VALIDATION_ERROR', left(c.body, 120));
    END LOOP;

    -- the field is named in DETAIL too
    e := tests.error_of($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 0}')$q$);
    PERFORM tests.assert_eq(e -> 'detail' ->> 'field', 'confidence_today');
    e := tests.error_of(
        $q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "x"}')$q$
    );
    PERFORM tests.assert_eq(e -> 'detail' ->> 'field', 'date_submitted');

    -- 64 extras are fine, 65 are not
    SELECT jsonb_object_agg('extra_' || i, i) INTO big FROM generate_series(1, 65) AS i;
    e := tests.error_of(format(
        'SELECT api.create_checkin(%L)', big || '{"mood_today": "ok", "confidence_today": 5}'::jsonb
    ));
    PERFORM tests.assert_eq(e ->> 'state', 'NV400');
    PERFORM tests.assert_eq(e ->> 'message', 'Too many extra fields (at most 64 are accepted)');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 0::bigint, 'nothing written');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 0::bigint, 'nothing written');
    PERFORM api.create_checkin((big - 'extra_65') || '{"mood_today": "ok", "confidence_today": 5}'::jsonb);
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 1::bigint, '64 extras accepted');

    -- a body that is not an object
    PERFORM tests.assert_raises($q$SELECT core.validate_checkin('[1]', FALSE)$q$, 'NV400', 'Invalid JSON body');
    -- list limit
    PERFORM tests.assert_raises($q$SELECT api.list_checkins('{"limit": "0"}')$q$, 'NV400',
        'limit must be between 1 and 100');
    PERFORM tests.assert_raises($q$SELECT api.list_checkins('{"limit": 101}')$q$, 'NV400',
        'limit must be between 1 and 100');
    PERFORM tests.assert_raises($q$SELECT api.list_checkins('{"limit": "ten"}')$q$, 'NV400',
        'limit must be an integer');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_auth_required()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_raises(
        $q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5}')$q$, 'NV401',
        'Access token required'
    );
    PERFORM tests.as_user('ghost@example.com');
    PERFORM tests.assert_raises($q$SELECT api.list_checkins()$q$, 'NV404', 'User not found');
    PERFORM tests.assert_raises($q$SELECT api.today_checkin()$q$, 'NV404', 'User not found');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_normalisation_and_reserved_keys()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('norm@example.com');
    f jsonb;
    c jsonb;
BEGIN
    f := core.validate_checkin(
        '{"mood_today": "ok", "confidence_today": " 8 ", "anxiety_level": "3", "missed_doses": 2.0,
          "journey_confidence_today": "7", "medication_confidence_today": 7, "user_note": null,
          "id": "x", "user_id": "y", "created_at": 1, "updated_at": 2, "date_submitted": "2026-01-01",
          "checkin_type": "z", "idempotency_key": "k"}', FALSE
    );
    PERFORM tests.assert_json_eq(f,
        '{"mood_today": "ok", "confidence_today": 8, "anxiety_level": 3, "missed_doses": 2,
          "journey_confidence_today": "7", "medication_confidence_today": 7, "user_note": null}'
    );
    -- a user_id in the body is ignored: the user is the token's
    c := api.create_checkin(
        jsonb_build_object('mood_today', 'ok', 'confidence_today', 5, 'user_id', gen_random_uuid(),
            'id', gen_random_uuid(), 'created_at', '1999-01-01', 'user_note', NULL, 'medication_taken', NULL)
    ) -> 'checkin';
    PERFORM tests.assert_eq(c ->> 'user_id', uid::text);
    PERFORM tests.assert_true((SELECT count(*) FROM public.daily_checkins AS l WHERE l.id = (c ->> 'id')::uuid) = 1);
    PERFORM tests.assert_true(c ->> 'created_at' > '2000', 'created_at is the server''s');
    -- null means "not answered": stored and read back as null
    PERFORM tests.assert_true(c ? 'user_note' AND c -> 'user_note' = 'null'::jsonb, 'user_note null kept');
    PERFORM tests.assert_eq(c ->> 'medication_taken', 'not tracked', 'null medication_taken reads as default');
    PERFORM tests.assert_eq(
        (SELECT e.event_data ->> 'status' FROM public.health_events AS e WHERE e.event_type = 'medication'),
        'not_tracked'
    );
    PERFORM tests.assert_eq(
        (SELECT e.event_data ? 'note' FROM public.health_events AS e WHERE e.event_type = 'mood'), FALSE,
        'no canonical note for a null user_note'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_full_round_trip()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('full@example.com');
    sent jsonb := tests.checkin_full_payload();
    c jsonb;
    k text;
    n integer := 0;
    v record;
BEGIN
    c := api.create_checkin(sent) -> 'checkin';
    PERFORM tests.assert_eq(c ->> 'date_submitted', '2026-01-15', 'date taken verbatim');
    c := api.get_checkin(jsonb_build_object('id', c ->> 'id')) -> 'checkin';
    FOR k IN SELECT jsonb_object_keys(sent) LOOP
        PERFORM tests.assert_json_eq(c -> 'fields' -> k, sent -> k, 'fields.' || k);
        PERFORM tests.assert_json_eq(c -> k, sent -> k, k);
        PERFORM tests.assert_eq(jsonb_typeof(c -> k), jsonb_typeof(sent -> k), 'type of ' || k);
        n := n + 1;
    END LOOP;
    PERFORM tests.assert_eq(n, 45, 'every key compared');
    -- nothing more than the row's own keys was added
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(x ORDER BY x) FROM jsonb_object_keys(c - 'fields') AS x
            WHERE NOT sent ? x),
        '["checkin_type", "created_at", "id", "updated_at", "user_id"]'
    );
    PERFORM tests.assert_eq(c ->> 'user_note', E'Line one\nLine two\n\ttabbed — ünïcødé 🌟 "quoted" back\\slash');

    -- the typed columns of the view
    SELECT * INTO v FROM public.daily_checkins_legacy AS d WHERE d.id = (c ->> 'id')::uuid;
    PERFORM tests.assert_eq(v.date_submitted, DATE '2026-01-15');
    PERFORM tests.assert_eq(v.mood_today, 'hopeful, anxious');
    PERFORM tests.assert_eq(v.confidence_today, 7);
    PERFORM tests.assert_eq(v.medication_taken, 'partial');
    PERFORM tests.assert_eq(v.anxiety_level, 6);
    PERFORM tests.assert_eq(v.missed_doses, 0);
    PERFORM tests.assert_eq(v.injection_confidence, 9);
    PERFORM tests.assert_eq(v.appointment_within_3_days, TRUE);
    PERFORM tests.assert_eq(v.appointment_anxiety, 8);
    PERFORM tests.assert_eq(v.partner_involved_today, FALSE);
    PERFORM tests.assert_json_eq(v.side_effects, sent -> 'side_effects');
    PERFORM tests.assert_json_eq(v.coping_strategies_used, sent -> 'coping_strategies_used');
    PERFORM tests.assert_json_eq(v.wish_knew_more_about, sent -> 'wish_knew_more_about');
    PERFORM tests.assert_eq(
        ARRAY[v.phq4_feeling_nervous, v.phq4_stop_worrying, v.phq4_little_interest, v.phq4_feeling_down,
            v.phq4_score, v.phq4_anxiety, v.phq4_depression],
        ARRAY[2, 1, 0, 3, 6, 3, 3]
    );
    PERFORM tests.assert_eq(v.user_note, sent ->> 'user_note');
    PERFORM tests.assert_eq(v.primary_concern_today, 'costs');
    PERFORM tests.assert_json_eq(v.fields, sent - 'date_submitted', 'fields column = the answers');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_events_split_and_correlation()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('split@example.com');
    sent jsonb := tests.checkin_full_payload();
    cid uuid;
    e record;
BEGIN
    cid := (api.create_checkin(sent) -> 'checkin' ->> 'id')::uuid;
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(jsonb_build_array(h.event_type, h.event_subtype) ORDER BY h.position)
            FROM public.health_events AS h),
        '[["mood", "daily_checkin"], ["medication", "daily_checkin"], ["symptom", "daily_checkin"],
          ["assessment", "phq4"]]'
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS h
            WHERE h.correlation_id = cid AND h.source = 'checkin_v1' AND h.source_version = 'v1-compat'
                AND h.local_date = DATE '2026-01-15' AND h.user_id = uid AND h.action = 'record'),
        4::bigint, 'one group, correlation_id = the check-in id'
    );
    -- a past date: noon local time of that date
    PERFORM tests.assert_eq(
        (SELECT DISTINCT h.occurred_at FROM public.health_events AS h),
        TIMESTAMPTZ '2026-01-15 12:00:00-08:00'
    );
    FOR e IN SELECT h.event_type, h.event_data FROM public.health_events AS h LOOP
        PERFORM tests.checkin_event_valid(e.event_type, e.event_data);
    END LOOP;
    PERFORM tests.assert_json_eq(
        (SELECT h.event_data - 'fields' FROM public.health_events AS h WHERE h.event_type = 'mood'),
        jsonb_build_object('mood', 'hopeful, anxious', 'confidence', 7, 'anxiety', 6,
            'note', sent ->> 'user_note', 'checkin_type', 'standard')
    );
    PERFORM tests.assert_json_eq(
        (SELECT h.event_data FROM public.health_events AS h WHERE h.event_type = 'medication'),
        '{"status": "partial", "missed_doses": 0,
          "fields": {"medication_taken": "partial", "missed_doses": 0, "injection_confidence": 9}}'
    );
    PERFORM tests.assert_json_eq(
        (SELECT h.event_data FROM public.health_events AS h WHERE h.event_type = 'symptom'),
        jsonb_build_object('symptoms', jsonb_build_array('bloating', E'headache\nat night', 'cramps'),
            'fields', jsonb_build_object('side_effects', sent -> 'side_effects',
                'physical_symptoms', sent -> 'physical_symptoms', 'symptom_severity', sent -> 'symptom_severity'))
    );
    PERFORM tests.assert_json_eq(
        (SELECT h.event_data - 'fields' FROM public.health_events AS h WHERE h.event_type = 'assessment'),
        '{"instrument": "PHQ-4", "score": 6, "anxiety": 3, "depression": 3}'
    );
    -- extras ride with the mood event
    PERFORM tests.assert_json_eq(
        (SELECT h.event_data -> 'fields' -> 'my_extra_object' FROM public.health_events AS h
            WHERE h.event_type = 'mood'),
        sent -> 'my_extra_object'
    );
    -- the medication status mapping
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(p.event_data ->> 'status' ORDER BY m.n)
            FROM unnest(ARRAY['yes', 'no', 'partial', 'not_applicable', 'not tracked']) WITH ORDINALITY AS m (v, n)
            CROSS JOIN LATERAL core.checkin_payloads(
                jsonb_build_object('mood_today', 'ok', 'confidence_today', 5, 'medication_taken', m.v), 'standard'
            ) AS p
            WHERE p.event_type = 'medication'),
        '["taken", "missed", "partial", "not_applicable", "not_tracked"]'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_phq4_derivation()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    c jsonb;
BEGIN
    PERFORM tests.make_user('phq@example.com');
    c := api.create_checkin(
        '{"mood_today": "tired", "confidence_today": 4, "phq4_feeling_nervous": 3, "phq4_stop_worrying": "2",
          "phq4_little_interest": 1, "phq4_feeling_down": 0, "phq4_score": 0, "phq4_anxiety": 6}'
    ) -> 'checkin';
    PERFORM tests.assert_eq(c -> 'phq4_score', '6'::jsonb, 'derived score overrides what was sent');
    PERFORM tests.assert_eq(c -> 'phq4_anxiety', '5'::jsonb, 'items 1+2');
    PERFORM tests.assert_eq(c -> 'phq4_depression', '1'::jsonb, 'items 3+4 (not sent: derived)');
    PERFORM tests.assert_eq(c -> 'phq4_stop_worrying', '2'::jsonb, 'integer string normalised');
    PERFORM tests.assert_eq(
        (SELECT h.event_data -> 'score' FROM public.health_events AS h WHERE h.event_type = 'assessment'), '6'::jsonb
    );
    -- three items only: nothing is derived, what was sent is kept
    PERFORM tests.assert_json_eq(
        core.validate_checkin('{"phq4_feeling_nervous": 3, "phq4_stop_worrying": 2, "phq4_little_interest": 1,
            "phq4_feeling_down": null, "phq4_score": 9}', TRUE),
        '{"phq4_feeling_nervous": 3, "phq4_stop_worrying": 2, "phq4_little_interest": 1, "phq4_feeling_down": null,
          "phq4_score": 9}'
    );
    PERFORM tests.assert_json_eq(
        core.validate_checkin('{"phq4_feeling_nervous": 0, "phq4_stop_worrying": 0, "phq4_little_interest": 0,
            "phq4_feeling_down": 0}', TRUE),
        '{"phq4_feeling_nervous": 0, "phq4_stop_worrying": 0, "phq4_little_interest": 0, "phq4_feeling_down": 0,
          "phq4_score": 0, "phq4_anxiety": 0, "phq4_depression": 0}'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_duplicate_day_is_409()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    first jsonb;
    e jsonb;
BEGIN
    PERFORM tests.make_user('dup@example.com');
    first := api.create_checkin('{"mood_today": "good", "confidence_today": "8"}') -> 'checkin';
    e := tests.error_of($q$SELECT api.create_checkin('{"mood_today": "bad", "confidence_today": 2}')$q$);
    PERFORM tests.assert_eq(e ->> 'state', 'NV409');
    PERFORM tests.assert_eq(e ->> 'message', 'You have already submitted a check-in for today. Please try again tomorrow.');
    PERFORM tests.assert_json_eq(e -> 'detail', jsonb_build_object(
        'code', 'CHECKIN_EXISTS',
        'existing_checkin', jsonb_build_object('id', first -> 'id', 'mood_today', 'good', 'confidence_today', 8,
            'date_submitted', first -> 'date_submitted')
    ));
    -- the same date sent explicitly, and through the enhanced route
    e := tests.error_of(format(
        'SELECT api.create_enhanced_checkin(%L)',
        jsonb_build_object('mood_today', 'ok', 'confidence_today', 5, 'date_submitted', first -> 'date_submitted')
    ));
    PERFORM tests.assert_eq(e ->> 'state', 'NV409');
    PERFORM tests.assert_eq(e -> 'detail' -> 'existing_checkin' ->> 'id', first ->> 'id');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 1::bigint, 'the loser wrote nothing');
    -- another date is fine
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2025-12-31"}');
    PERFORM tests.assert_eq((api.list_checkins() ->> 'count')::integer, 2);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_delete_frees_the_date()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    body CONSTANT jsonb := '{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-02-01",
        "medication_taken": "yes", "side_effects": ["x"]}';
    cid text;
    again text;
    r jsonb;
BEGIN
    PERFORM tests.make_user('del@example.com');
    cid := api.create_checkin(body) -> 'checkin' ->> 'id';
    PERFORM api.update_checkin(jsonb_build_object('id', cid, 'mood_today', 'better'));
    r := api.delete_checkin(jsonb_build_object('id', cid));
    PERFORM tests.assert_json_eq(r, '{"success": true, "message": "Check-in deleted successfully"}');
    PERFORM tests.assert_raises(format('SELECT api.get_checkin(%L)', jsonb_build_object('id', cid)), 'NV404',
        'Check-in not found');
    PERFORM tests.assert_raises(format('SELECT api.delete_checkin(%L)', jsonb_build_object('id', cid)), 'NV404',
        'Check-in not found');
    PERFORM tests.assert_eq((api.list_checkins() ->> 'count')::integer, 0);
    -- the log keeps everything: 3 records + 1 correction + one retraction per live event (3)
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 7::bigint);
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS h WHERE h.action = 'retract' AND h.correlation_id = cid::uuid),
        3::bigint
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events_live AS h WHERE h.correlation_id = cid::uuid), 0::bigint
    );
    -- the date is free again
    again := api.create_checkin(body) -> 'checkin' ->> 'id';
    PERFORM tests.assert_true(again <> cid, 'a new check-in');
    PERFORM tests.assert_eq(
        api.get_checkin(jsonb_build_object('id', again)) -> 'checkin' ->> 'mood_today', 'ok'
    );
    PERFORM tests.assert_raises($q$SELECT api.delete_checkin('{"id": "not-a-uuid"}')$q$, 'NV404',
        'Check-in not found');
    PERFORM tests.assert_raises($q$SELECT api.get_checkin('{}')$q$, 'NV404', 'Check-in not found');
    PERFORM tests.assert_raises(
        format('SELECT api.get_checkin(%L)', jsonb_build_object('id', gen_random_uuid())), 'NV404',
        'Check-in not found'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_update_appends_corrections()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    cid text;
    original jsonb;
    c jsonb;
    r jsonb;
    n_before bigint;
    first_mood uuid;
    e jsonb;
BEGIN
    PERFORM tests.make_user('upd@example.com');
    original := api.create_checkin(
        '{"mood_today": "hopeful", "confidence_today": 7, "user_note": "first", "extra_key": {"a": 1},
          "medication_taken": "yes", "date_submitted": "2026-03-01"}'
    ) -> 'checkin';
    cid := original ->> 'id';
    first_mood := (SELECT h.id FROM public.health_events AS h WHERE h.event_type = 'mood');
    n_before := (SELECT count(*) FROM public.health_events);
    PERFORM tests.assert_eq(n_before, 2::bigint);

    -- only mood fields change: one correction of the mood event
    r := api.update_checkin(jsonb_build_object('id', cid, 'mood_today', 'calm', 'confidence_today', '9'));
    c := r -> 'checkin';
    PERFORM tests.assert_eq(r ->> 'message', 'Check-in updated successfully! 🌟');
    PERFORM tests.assert_eq(c ->> 'mood_today', 'calm');
    PERFORM tests.assert_eq(c -> 'confidence_today', '9'::jsonb);
    PERFORM tests.assert_eq(c ->> 'user_note', 'first', 'absent fields keep their value');
    PERFORM tests.assert_json_eq(c -> 'extra_key', '{"a": 1}', 'extras kept');
    PERFORM tests.assert_eq(c ->> 'medication_taken', 'yes');
    PERFORM tests.assert_eq(c ->> 'date_submitted', '2026-03-01');
    PERFORM tests.assert_eq(c ->> 'created_at', original ->> 'created_at');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_before + 1);
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_build_array(h.action, h.event_type, h.related_event_id, h.correlation_id, h.occurred_at)
            FROM public.health_events AS h ORDER BY h.position DESC LIMIT 1),
        jsonb_build_array('correct', 'mood', first_mood, cid, TIMESTAMPTZ '2026-03-01 12:00-08:00')
    );
    -- the previous version is still in the log
    PERFORM tests.assert_eq(
        (SELECT h.event_data -> 'fields' ->> 'mood_today' FROM public.health_events AS h WHERE h.id = first_mood),
        'hopeful'
    );

    -- a new group (symptom) is recorded; an unchanged PUT writes nothing
    PERFORM api.update_checkin(jsonb_build_object('id', cid, 'side_effects', '["nausea"]'::jsonb, 'user_note', 'first'));
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_before + 2);
    PERFORM tests.assert_eq(
        (SELECT h.action FROM public.health_events AS h WHERE h.event_type = 'symptom'), 'record'
    );
    PERFORM api.update_checkin(jsonb_build_object('id', cid, 'mood_today', 'calm'));
    PERFORM api.update_checkin(jsonb_build_object('id', cid));
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_before + 2, 'no-op PUTs');

    -- invalid PUTs change nothing
    PERFORM tests.assert_raises(format('SELECT api.update_checkin(%L)',
        jsonb_build_object('id', cid, 'confidence_today', 11, 'mood_today', 'x')), 'NV400',
        'confidence_today must be between 1 and 10');
    PERFORM tests.assert_raises(format('SELECT api.update_checkin(%L)',
        jsonb_build_object('id', cid, 'mood_today', '')), 'NV400', 'Missing required fields:%');
    PERFORM tests.assert_raises(format('SELECT api.update_checkin(%L)',
        jsonb_build_object('id', cid, 'date_submitted', '2999-01-01')), 'NV400',
        'date_submitted must not be later than tomorrow');
    PERFORM tests.assert_raises(format('SELECT api.update_checkin(%L)',
        jsonb_build_object('id', gen_random_uuid(), 'mood_today', 'x')), 'NV404', 'Check-in not found');
    PERFORM tests.assert_raises($q$SELECT api.update_checkin('{"id": "42", "mood_today": "x"}')$q$, 'NV404',
        'Check-in not found');

    -- moving onto a taken date: 409, nothing written
    PERFORM api.create_checkin('{"mood_today": "other", "confidence_today": 3, "date_submitted": "2026-03-02"}');
    n_before := (SELECT count(*) FROM public.health_events);
    e := tests.error_of(format('SELECT api.update_checkin(%L)',
        jsonb_build_object('id', cid, 'date_submitted', '2026-03-02', 'mood_today', 'moved')));
    PERFORM tests.assert_eq(e ->> 'state', 'NV409');
    PERFORM tests.assert_eq(e -> 'detail' ->> 'code', 'CHECKIN_EXISTS');
    PERFORM tests.assert_eq(e -> 'detail' -> 'existing_checkin' ->> 'mood_today', 'other');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_before);
    PERFORM tests.assert_eq(
        (SELECT l.date_submitted FROM public.daily_checkins AS l WHERE l.id = cid::uuid), DATE '2026-03-01'
    );

    -- moving onto a free date corrects every live event of the group; the old date is free
    c := api.update_checkin(jsonb_build_object('id', cid, 'date_submitted', '2026-02-27')) -> 'checkin';
    PERFORM tests.assert_eq(c ->> 'date_submitted', '2026-02-27');
    PERFORM tests.assert_eq(c ->> 'mood_today', 'calm');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_before + 3);
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(DISTINCT h.local_date) FROM public.health_events_live AS h WHERE h.correlation_id = cid::uuid),
        '["2026-02-27"]'
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS h WHERE h.correlation_id = cid::uuid), 7::bigint,
        'every version kept: 3 records + 4 corrections'
    );
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-03-01"}');
    PERFORM tests.assert_eq((api.list_checkins() ->> 'count')::integer, 3);
    -- the type can be changed too
    c := api.update_checkin(jsonb_build_object('id', cid, 'checkin_type', 'enhanced')) -> 'checkin';
    PERFORM tests.assert_eq(c ->> 'checkin_type', 'enhanced');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_view_one_row_per_checkin()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    cid text;
    i integer;
BEGIN
    PERFORM tests.make_user('view@example.com');
    cid := api.create_checkin(tests.checkin_full_payload()) -> 'checkin' ->> 'id';
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-01-16"}');
    FOR i IN 1..5 LOOP
        PERFORM api.update_checkin(jsonb_build_object(
            'id', cid, 'confidence_today', i, 'missed_doses', i, 'side_effects', jsonb_build_array('s' || i),
            'phq4_feeling_down', i % 4, 'my_extra_number', i
        ));
    END LOOP;
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins_legacy), 2::bigint, 'one row each');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.daily_checkins_legacy AS d WHERE d.id = cid::uuid), 1::bigint
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS h WHERE h.correlation_id = cid::uuid), 4 + 5 * 4::bigint
    );
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_build_array(d.confidence_today, d.missed_doses, d.side_effects, d.phq4_feeling_down,
            d.phq4_score, d.fields -> 'my_extra_number')
            FROM public.daily_checkins_legacy AS d WHERE d.id = cid::uuid),
        '[5, 5, ["s5"], 1, 4, 5]', 'the last values'
    );
    PERFORM tests.assert_eq((api.list_checkins() ->> 'count')::integer, 2);
    PERFORM tests.assert_true(
        obj_description('public.daily_checkins_legacy'::regclass, 'pg_class') IS NOT NULL, 'commented'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_list_today_last_values()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('list@example.com', 'Asia/Tokyo');
    today date;
    r jsonb;
BEGIN
    today := core.local_date(uid);
    r := api.last_values();
    PERFORM tests.assert_json_eq(r, '{"success": true, "hasValues": false, "last_values": null, "lastValues": null,
        "message": "No previous check-ins found"}');
    r := api.today_checkin();
    PERFORM tests.assert_json_eq(r, jsonb_build_object('success', TRUE, 'hasCheckedIn', FALSE, 'checkin', NULL,
        'date', to_char(today, 'YYYY-MM-DD')));
    PERFORM tests.assert_json_eq(api.list_checkins(), '{"success": true, "records": [], "checkins": [], "count": 0}');

    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'a', 'confidence_today', 1,
        'date_submitted', to_char(today - 3, 'YYYY-MM-DD'), 'anxiety_level', 4));
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'b', 'confidence_today', 2,
        'date_submitted', to_char(today - 1, 'YYYY-MM-DD'), 'side_effects', '["x"]'::jsonb));
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'c', 'confidence_today', 3,
        'date_submitted', to_char(today - 2, 'YYYY-MM-DD')));
    r := api.list_checkins();
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(x ->> 'mood_today') FROM jsonb_array_elements(r -> 'checkins') AS x), '["b", "c", "a"]',
        'newest date_submitted first'
    );
    -- the same check-ins in both lists, each value once per item: records {id, fields: row}, checkins the row
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(jsonb_build_object('id', x -> 'id', 'fields', x) ORDER BY n)
            FROM jsonb_array_elements(r -> 'checkins') WITH ORDINALITY AS a (x, n)),
        r -> 'records'
    );
    PERFORM tests.assert_true(
        (SELECT bool_and(NOT x ? 'fields') FROM jsonb_array_elements(r -> 'checkins') AS x)
        AND (SELECT bool_and((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(x) AS k) = '{fields,id}')
            FROM jsonb_array_elements(r -> 'records') AS x),
        'no item carries the row twice'
    );
    PERFORM tests.assert_eq(r -> 'count', '3'::jsonb);
    r := api.list_checkins('{"limit": "2"}');
    PERFORM tests.assert_json_eq(
        (SELECT jsonb_agg(x #>> '{fields,mood_today}') FROM jsonb_array_elements(r -> 'records') AS x), '["b", "c"]'
    );
    PERFORM tests.assert_eq(api.today_checkin() -> 'hasCheckedIn', 'false'::jsonb);

    r := api.last_values();
    PERFORM tests.assert_eq(r -> 'hasValues', 'true'::jsonb);
    PERFORM tests.assert_json_eq(r -> 'last_values', r -> 'lastValues');
    PERFORM tests.assert_eq(r -> 'last_values' ->> 'mood_today', 'b');
    PERFORM tests.assert_json_eq(r -> 'last_values' -> 'side_effects', '["x"]');
    PERFORM tests.assert_eq(r -> 'last_values' ->> 'last_checkin_date', to_char(today - 1, 'YYYY-MM-DD'));
    PERFORM tests.assert_eq(r -> 'last_values' -> 'days_since_last_checkin', '1'::jsonb);
    PERFORM tests.assert_eq(r ->> 'message', 'Last check-in values retrieved');

    PERFORM api.create_checkin('{"mood_today": "d", "confidence_today": 4}');
    r := api.today_checkin();
    PERFORM tests.assert_eq(r -> 'hasCheckedIn', 'true'::jsonb);
    PERFORM tests.assert_eq(r -> 'checkin' ->> 'mood_today', 'd');
    PERFORM tests.assert_eq(r -> 'checkin' ->> 'date_submitted', to_char(today, 'YYYY-MM-DD'));
    PERFORM tests.assert_eq(api.last_values() -> 'last_values' -> 'days_since_last_checkin', '0'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_timezone_boundaries()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    la uuid := tests.make_user('la@example.com', 'America/Los_Angeles');
    tokyo uuid := tests.make_user('tokyo@example.com', 'Asia/Tokyo');
    kiri uuid := tests.make_user('kiri@example.com', 'Pacific/Kiritimati');
BEGIN
    -- 23:30 local in Los Angeles is already the next day in UTC: the check-in belongs to the local date
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-07-15 23:30-07:00'), DATE '2026-07-15');
    PERFORM tests.assert_eq(core.local_date(tokyo, TIMESTAMPTZ '2026-07-15 23:30-07:00'), DATE '2026-07-16');
    PERFORM tests.assert_eq(core.checkin_date(NULL, la, TIMESTAMPTZ '2026-07-16 06:30Z'), DATE '2026-07-15');
    PERFORM tests.assert_eq(core.checkin_date('null', tokyo, TIMESTAMPTZ '2026-07-15 14:59Z'), DATE '2026-07-15');
    PERFORM tests.assert_eq(core.checkin_date('null', tokyo, TIMESTAMPTZ '2026-07-15 15:00Z'), DATE '2026-07-16');
    -- DST in Los Angeles: spring forward 2026-03-08, fall back 2026-11-01
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-03-08 00:30-08:00'), DATE '2026-03-08');
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-03-08 23:30-07:00'), DATE '2026-03-08');
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-03-09 07:30Z'), DATE '2026-03-09');
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-11-01 23:30-08:00'), DATE '2026-11-01');
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-11-02 07:59Z'), DATE '2026-11-01');
    PERFORM tests.assert_eq(core.local_date(la, TIMESTAMPTZ '2026-11-02 08:00Z'), DATE '2026-11-02');
    -- occurred_at: now() on the local today, noon local time otherwise (offset follows DST)
    PERFORM tests.assert_eq(
        core.checkin_occurred_at(la, DATE '2026-07-15', TIMESTAMPTZ '2026-07-16 06:30Z'),
        TIMESTAMPTZ '2026-07-16 06:30Z'
    );
    PERFORM tests.assert_eq(
        core.checkin_occurred_at(la, DATE '2026-07-16', TIMESTAMPTZ '2026-07-16 06:30Z'),
        TIMESTAMPTZ '2026-07-16 19:00Z'
    );
    PERFORM tests.assert_eq(
        core.checkin_occurred_at(la, DATE '2026-03-08', TIMESTAMPTZ '2026-05-01 00:00Z'),
        TIMESTAMPTZ '2026-03-08 12:00-07:00'
    );
    PERFORM tests.assert_eq(
        core.checkin_occurred_at(la, DATE '2026-11-01', TIMESTAMPTZ '2026-05-01 00:00Z'),
        TIMESTAMPTZ '2026-11-01 12:00-08:00'
    );
    PERFORM tests.assert_eq(
        core.checkin_occurred_at(tokyo, DATE '2026-03-08', TIMESTAMPTZ '2026-05-01 00:00Z'),
        TIMESTAMPTZ '2026-03-08 03:00Z'
    );
    -- "not later than tomorrow in any timezone": tomorrow at UTC+14 (Kiritimati) is the limit
    PERFORM tests.assert_eq(core.local_date(kiri, TIMESTAMPTZ '2026-06-01 10:00Z'), DATE '2026-06-02');
    PERFORM tests.assert_eq(
        core.checkin_date('"2026-06-03"', la, TIMESTAMPTZ '2026-06-01 10:00Z'), DATE '2026-06-03'
    );
    PERFORM tests.assert_raises(
        $q$SELECT core.checkin_date('"2026-06-04"', NULL, TIMESTAMPTZ '2026-06-01 10:00Z')$q$, 'NV400',
        'date_submitted must not be later than tomorrow'
    );
    PERFORM tests.assert_eq(
        core.checkin_date('"2026-06-02"', la, TIMESTAMPTZ '2026-06-01 09:59Z'), DATE '2026-06-02'
    );
    PERFORM tests.assert_raises(
        $q$SELECT core.checkin_date('"2026-06-03"', NULL, TIMESTAMPTZ '2026-06-01 09:59Z')$q$, 'NV400',
        'date_submitted must not be later than tomorrow'
    );
    PERFORM tests.assert_eq(core.checkin_date('"2000-01-01"', la), DATE '2000-01-01');
    PERFORM tests.assert_eq(core.checkin_date('"2024-02-29"', la), DATE '2024-02-29');
    -- without a date: today, written at now()
    PERFORM tests.as_user('la@example.com');
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5}');
    PERFORM tests.assert_eq(
        (SELECT h.occurred_at FROM public.health_events AS h WHERE h.user_id = la AND h.local_date = core.local_date(la)),
        now(), 'today: occurred_at is now()'
    );
    -- a check-in dated tomorrow (allowed) is written at noon local of that date
    PERFORM api.create_checkin(jsonb_build_object('mood_today', 'ok', 'confidence_today', 5,
        'date_submitted', to_char(core.local_date(la) + 1, 'YYYY-MM-DD')));
    PERFORM tests.assert_eq(
        (SELECT h.occurred_at FROM public.health_events AS h WHERE h.user_id = la AND h.local_date > core.local_date(la)),
        (core.local_date(la) + 1 + TIME '12:00') AT TIME ZONE 'America/Los_Angeles'
    );
    -- the default date is the user's today (core.user_today), which that check-in may have moved: taken either way
    PERFORM tests.assert_raises($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5}')$q$,
        'NV409', 'You have already submitted a check-in for today.%');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_isolation_as_gateway_role()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann_checkin text;
    bob_checkin text;
    seen bigint;
    e_get jsonb;
    e_put jsonb;
    e_del jsonb;
    bob_list jsonb;
BEGIN
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.make_user('ann@example.com');
    -- the gateway's role: EXECUTE on api.* only, no table writes; the definer path does the writing
    SET LOCAL ROLE novara_api;
    ann_checkin := api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "side_effects": []}')
        -> 'checkin' ->> 'id';
    PERFORM tests.as_user('bob@example.com');
    bob_checkin := api.create_checkin('{"mood_today": "fine", "confidence_today": 6}') -> 'checkin' ->> 'id';
    seen := (SELECT count(*) FROM public.daily_checkins_legacy);
    bob_list := api.list_checkins();
    RESET ROLE;
    e_get := tests.error_of(format('SET LOCAL ROLE novara_api; SELECT api.get_checkin(%L)',
        jsonb_build_object('id', ann_checkin)));
    e_put := tests.error_of(format('SET LOCAL ROLE novara_api; SELECT api.update_checkin(%L)',
        jsonb_build_object('id', ann_checkin, 'mood_today', 'hacked')));
    e_del := tests.error_of(format('SET LOCAL ROLE novara_api; SELECT api.delete_checkin(%L)',
        jsonb_build_object('id', ann_checkin)));
    RESET ROLE;
    PERFORM tests.assert_eq(seen, 1::bigint, 'the view shows only the caller''s rows');
    PERFORM tests.assert_eq(bob_list -> 'count', '1'::jsonb);
    PERFORM tests.assert_eq(bob_list -> 'checkins' -> 0 ->> 'id', bob_checkin);
    PERFORM tests.assert_eq(e_get ->> 'state', 'NV404', 'another user''s check-in is not found');
    PERFORM tests.assert_eq(e_put ->> 'state', 'NV404');
    PERFORM tests.assert_eq(e_del ->> 'state', 'NV404');
    PERFORM tests.assert_eq(
        (SELECT d.mood_today FROM public.daily_checkins_legacy AS d WHERE d.id = ann_checkin::uuid), 'ok'
    );
    PERFORM tests.assert_raises(
        $q$SET LOCAL ROLE novara_api; INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today,
            confidence_today) VALUES (gen_random_uuid(), current_date, 'x', 1)$q$,
        '42501'
    );
    RESET ROLE;
    PERFORM tests.assert_true(
        (SELECT bool_and(p.prosecdef AND pg_get_userbyid(p.proowner) = 'novara_definer'
            AND 'search_path=pg_catalog' = ANY (p.proconfig) AND obj_description(p.oid, 'pg_proc') IS NOT NULL)
            FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND (p.proname LIKE '%checkin%' OR p.proname = 'last_values')),
        'api functions: definer-owned, pinned search_path, commented'
    );
    PERFORM tests.assert_eq(
        (SELECT string_agg(p.proname || ':' || p.provolatile::text, ',' ORDER BY p.proname)
            FROM pg_proc AS p
            WHERE
                p.pronamespace = 'api'::regnamespace AND p.proname NOT LIKE 'v1\_%'
                AND (p.proname LIKE '%checkin%' OR p.proname = 'last_values')),
        -- the reads only read the read model, daily_checkins: STABLE, so the gateway runs them read-only
        'checkin_questions:s,create_checkin:v,create_enhanced_checkin:v,delete_checkin:v,get_checkin:s,last_values:s,list_checkins:s,'
        || 'today_checkin:s,update_checkin:v'
    );
END
$$;
