-- A V1 check-in as events (docs/design-v2.md, "A V1 check-in as events"): its answers split into one payload per
-- event type. A check-in is a group of health_events sharing correlation_id = the check-in's id and source
-- 'checkin_v1'; its current state is also its row in the read model daily_checkins (unique per user and date, so
-- a second check-in for a day is refused race-safely).

CREATE OR REPLACE FUNCTION core.checkin_payloads(p_fields jsonb, p_checkin_type text)
RETURNS TABLE (event_type text, event_subtype text, event_data jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    groups jsonb;
    symptoms jsonb;
BEGIN
    -- The answers by event type (checkin_fields.event_type); extras go with the mood event.
    SELECT coalesce(jsonb_object_agg(g.grp, g.obj), '{}'::jsonb) INTO groups
    FROM (
        SELECT coalesce(f.event_type, 'mood') AS grp, jsonb_object_agg(e.key, e.value) AS obj
        FROM jsonb_each(p_fields) AS e
        LEFT JOIN public.checkin_fields AS f ON f.field = e.key
        GROUP BY coalesce(f.event_type, 'mood')
    ) AS g;

    event_type := 'mood';
    event_subtype := 'daily_checkin';
    event_data := jsonb_build_object(
        'mood', p_fields -> 'mood_today',
        'confidence', p_fields -> 'confidence_today',
        'checkin_type', p_checkin_type,
        'fields', coalesce(groups -> 'mood', '{}'::jsonb)
    );
    IF jsonb_typeof(p_fields -> 'anxiety_level') = 'number' THEN
        event_data := event_data || jsonb_build_object('anxiety', p_fields -> 'anxiety_level');
    END IF;
    IF jsonb_typeof(p_fields -> 'user_note') = 'string' THEN
        event_data := event_data || jsonb_build_object('note', p_fields -> 'user_note');
    END IF;
    RETURN NEXT;

    IF groups ? 'medication' THEN
        event_type := 'medication';
        event_subtype := 'daily_checkin';
        event_data := jsonb_build_object(
            'status', CASE coalesce(p_fields ->> 'medication_taken', 'not tracked')
                WHEN 'yes' THEN 'taken'
                WHEN 'no' THEN 'missed'
                WHEN 'partial' THEN 'partial'
                WHEN 'not_applicable' THEN 'not_applicable'
                ELSE 'not_tracked'
            END,
            'fields', groups -> 'medication'
        );
        IF jsonb_typeof(p_fields -> 'missed_doses') = 'number' THEN
            event_data := event_data || jsonb_build_object('missed_doses', p_fields -> 'missed_doses');
        END IF;
        RETURN NEXT;
    END IF;

    IF groups ? 'symptom' THEN
        -- side_effects ++ the string items of physical_symptoms (the registry allows 100 items).
        SELECT coalesce(jsonb_agg(s.item ORDER BY s.src, s.n), '[]'::jsonb) INTO symptoms
        FROM (
            SELECT a.src, a.n, a.item
            FROM (
                SELECT 1 AS src, x.n, x.item
                FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(p_fields -> 'side_effects') = 'array'
                        THEN p_fields -> 'side_effects' ELSE '[]'::jsonb END
                ) WITH ORDINALITY AS x (item, n)
                UNION ALL
                SELECT 2 AS src, x.n, x.item
                FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(p_fields -> 'physical_symptoms') = 'array'
                        THEN p_fields -> 'physical_symptoms' ELSE '[]'::jsonb END
                ) WITH ORDINALITY AS x (item, n)
            ) AS a
            WHERE jsonb_typeof(a.item) = 'string' AND char_length(a.item #>> '{}') <= 1000
            ORDER BY a.src, a.n
            LIMIT 100
        ) AS s;
        event_type := 'symptom';
        event_subtype := 'daily_checkin';
        event_data := jsonb_build_object('symptoms', symptoms, 'fields', groups -> 'symptom');
        RETURN NEXT;
    END IF;

    IF groups ? 'assessment' THEN
        event_type := 'assessment';
        event_subtype := 'phq4';
        event_data := jsonb_build_object('instrument', 'PHQ-4', 'fields', groups -> 'assessment');
        IF jsonb_typeof(p_fields -> 'phq4_score') = 'number' THEN
            event_data := event_data || jsonb_build_object('score', p_fields -> 'phq4_score');
        END IF;
        IF jsonb_typeof(p_fields -> 'phq4_anxiety') = 'number' THEN
            event_data := event_data || jsonb_build_object('anxiety', p_fields -> 'phq4_anxiety');
        END IF;
        IF jsonb_typeof(p_fields -> 'phq4_depression') = 'number' THEN
            event_data := event_data || jsonb_build_object('depression', p_fields -> 'phq4_depression');
        END IF;
        RETURN NEXT;
    END IF;
END
$$;

COMMENT ON FUNCTION core.checkin_payloads(jsonb, text) IS
'Split validated check-in fields into event payloads: mood/daily_checkin always (with extras); medication, '
'symptom (daily_checkin) and assessment (phq4) when one of their fields is given. Each event_data has its '
'type''s canonical keys and "fields": the V1 answers verbatim. The mood event also carries checkin_type.';
