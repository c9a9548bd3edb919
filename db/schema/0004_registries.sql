-- valid-checksum: 7d616591adc5f8c95878c88c9f4edee0649f1341ed7485edeacb574dd8e99bf6
-- (a comment reworded since: the same objects result)
-- Reference data kept as rows (adding one is an INSERT, not a migration):
-- event types with their validation rules, mood words with their scores, and the V1 check-in fields.

CREATE TABLE public.event_types (
    event_type text PRIMARY KEY,
    description text NOT NULL,
    rules jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_types_name_format CHECK (event_type ~ '^[a-z][a-z0-9_]{0,39}$'),
    CONSTRAINT event_types_rules_object CHECK (jsonb_typeof(rules) = 'object')
);
COMMENT ON TABLE public.event_types IS
'Registry of health event types. rules validates event_data: {"required": [keys], "properties": {key: '
'{"type": string|integer|number|boolean|array|object, "minimum", "maximum", "maxLength", "enum": [...], '
'"items": type}}}. Keys not listed are allowed. Events of unregistered types are refused.';

INSERT INTO public.event_types (event_type, description, rules) VALUES
(
    'mood', 'How the person feels: a mood word (or several) and optional confidence, anxiety, note.',
    '{"required": ["mood"], "properties": {
        "mood": {"type": "string", "maxLength": 100, "minLength": 1},
        "confidence": {"type": "integer", "minimum": 1, "maximum": 10},
        "anxiety": {"type": "integer", "minimum": 1, "maximum": 10},
        "note": {"type": "string", "maxLength": 5000}}}'
),
(
    'medication', 'A medication answer: status taken, missed, skipped or partial (check-ins also record '
    'not_applicable and not_tracked).',
    '{"required": ["status"], "properties": {
        "status": {"type": "string",
                   "enum": ["taken", "missed", "skipped", "partial", "not_applicable", "not_tracked"]},
        "medication": {"type": "string", "maxLength": 200},
        "dose": {"type": "string", "maxLength": 100},
        "missed_doses": {"type": "integer", "minimum": 0, "maximum": 50},
        "injection_confidence": {"type": "integer", "minimum": 1, "maximum": 10}}}'
),
(
    'symptom', 'Symptoms or side effects reported, with optional severity.',
    '{"required": ["symptoms"], "properties": {
        "symptoms": {"type": "array", "items": "string", "maxItems": 100},
        "severity": {"type": "integer", "minimum": 1, "maximum": 10}}}'
),
(
    'assessment', 'A scored questionnaire, such as PHQ-4.',
    '{"required": ["instrument"], "properties": {
        "instrument": {"type": "string", "maxLength": 50, "minLength": 1},
        "score": {"type": "number", "minimum": 0, "maximum": 1000}}}'
),
(
    'vital', 'A measurement: kind, value and unit (temperature, weight, blood pressure...).',
    '{"required": ["kind", "value"], "properties": {
        "kind": {"type": "string", "maxLength": 50, "minLength": 1},
        "value": {"type": "number"},
        "unit": {"type": "string", "maxLength": 20}}}'
),
(
    'treatment', 'A treatment step: retrieval, transfer, a procedure or a protocol change.',
    '{"required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 200, "minLength": 1},
        "stage": {"type": "string", "maxLength": 50}}}'
),
(
    'appointment', 'A clinic appointment, past or scheduled, and how the person feels about it.',
    '{"required": ["kind"], "properties": {
        "kind": {"type": "string", "maxLength": 100, "minLength": 1},
        "scheduled_for": {"type": "string", "maxLength": 40},
        "anxiety": {"type": "integer", "minimum": 1, "maximum": 10}}}'
),
(
    'note', 'A free-text journal note.',
    '{"required": ["text"], "properties": {"text": {"type": "string", "maxLength": 5000, "minLength": 1}}}'
),
(
    'sleep', 'Sleep: hours and optional quality.',
    '{"required": ["hours"], "properties": {
        "hours": {"type": "number", "minimum": 0, "maximum": 24},
        "quality": {"type": "integer", "minimum": 1, "maximum": 10}}}'
),
(
    'exercise', 'Physical activity: what, how long, how hard.',
    '{"required": ["activity"], "properties": {
        "activity": {"type": "string", "maxLength": 100, "minLength": 1},
        "minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
        "intensity": {"type": "string", "enum": ["low", "moderate", "high"]}}}'
);

CREATE TABLE public.mood_scores (
    word text PRIMARY KEY,
    score smallint NOT NULL,
    CONSTRAINT mood_scores_word_normalised CHECK (word = lower(btrim(word)) AND word <> ''),
    CONSTRAINT mood_scores_score_range CHECK (score BETWEEN 1 AND 10)
);
COMMENT ON TABLE public.mood_scores IS
'Mood word -> score 1 (worst) to 10 (best). A multi-mood value ("hopeful, anxious") scores as the mean of '
'its known words; an unknown word scores NULL. Covers every mood the forms offer.';

INSERT INTO public.mood_scores (word, score) VALUES
('amazing', 10), ('great', 9), ('excited', 8), ('grateful', 8), ('confident', 8), ('optimistic', 8),
('happy', 8), ('peaceful', 8), ('positive', 8), ('strong', 8), ('motivated', 8), ('supported', 8),
('hopeful', 7), ('good', 7), ('calm', 7), ('content', 7), ('relieved', 7), ('determined', 7),
('okay', 5), ('ok', 5), ('neutral', 5), ('fine', 5), ('uncertain', 4), ('tired', 4), ('emotional', 4),
('anxious', 3), ('worried', 3), ('frustrated', 3), ('tough', 3), ('nervous', 3), ('stressed', 3),
('overwhelmed', 2), ('very tough', 2), ('sad', 2), ('scared', 2), ('angry', 2), ('lonely', 2),
('exhausted', 2), ('disappointed', 2), ('struggling', 2), ('bad', 2),
('hopeless', 1), ('terrible', 1), ('depressed', 1), ('devastated', 1);

-- The V1 check-in fields (the body of POST /api/checkins): how each is validated and which event of the check-in
-- holds it.
-- Keys not listed here are "extras": kept verbatim in the mood event (at most 64 per check-in).
CREATE TABLE public.checkin_fields (
    field text PRIMARY KEY,
    kind text NOT NULL,
    event_type text NOT NULL REFERENCES public.event_types (event_type),
    min_value integer,
    max_value integer,
    max_length integer,
    allowed text[],
    required boolean NOT NULL DEFAULT FALSE,
    description text NOT NULL,
    CONSTRAINT checkin_fields_kind_check CHECK (
        kind IN ('string', 'integer', 'boolean', 'string_array', 'array', 'object', 'integer_or_string', 'enum')
    )
);
COMMENT ON TABLE public.checkin_fields IS
'The V1 daily check-in fields: kind (string, integer, boolean, string_array, array, object, '
'integer_or_string, enum), bounds, and the event type (mood, medication, symptom, assessment) whose payload stores it. '
'Validation of a check-in is driven by these rows.';

INSERT INTO public.checkin_fields (
    field, kind, event_type, min_value, max_value, max_length, allowed, required, description
) VALUES
('mood_today', 'string', 'mood', NULL, NULL, 100, NULL, TRUE, 'Mood word(s), several joined by ", ".'),
('confidence_today', 'integer', 'mood', 1, 10, NULL, NULL, TRUE, 'Overall confidence today, 1-10.'),
('user_note', 'string', 'mood', NULL, NULL, 5000, NULL, FALSE, 'Free-text note.'),
('primary_concern_today', 'string', 'mood', NULL, NULL, 100, NULL, FALSE, 'Main concern today.'),
('anxiety_level', 'integer', 'mood', 1, 10, NULL, NULL, FALSE, 'Anxiety, 1-10.'),
('appointment_within_3_days', 'boolean', 'mood', NULL, NULL, NULL, NULL, FALSE, 'An appointment is near.'),
('appointment_anxiety', 'integer', 'mood', 1, 10, NULL, NULL, FALSE, 'Anxiety about it, 1-10.'),
('coping_strategies_used', 'string_array', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Strategies used today.'),
('partner_involved_today', 'boolean', 'mood', NULL, NULL, NULL, NULL, FALSE, 'Partner took part today.'),
('wish_knew_more_about', 'string_array', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Topics to learn about.'),
('journey_reflection_today', 'integer_or_string', 'mood', 1, 10, 5000, NULL, FALSE, 'Reflection (1-10 or text).'),
('medication_confidence_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Medication confidence.'),
('medication_readiness_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Medication readiness.'),
('financial_confidence_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Financial confidence.'),
('journey_confidence_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Journey confidence.'),
('financial_stress_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Financial stress.'),
('journey_readiness_today', 'integer_or_string', 'mood', 1, 10, 1000, NULL, FALSE, 'Journey readiness.'),
('medication_concern_today', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Medication concern.'),
('financial_concern_today', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Financial concern.'),
('top_concern_today', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Top concern today.'),
('medication_momentum', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Medication momentum.'),
('financial_momentum', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Financial momentum.'),
('journey_momentum', 'string', 'mood', NULL, NULL, 1000, NULL, FALSE, 'Journey momentum.'),
('cycle_stage_update', 'string', 'mood', NULL, NULL, 100, NULL, FALSE, 'Cycle stage reported today.'),
('sentiment_analysis', 'object', 'mood', NULL, NULL, NULL, NULL, FALSE, 'Sentiment computed by the client.'),
('checkin_type', 'string', 'mood', NULL, NULL, 50, NULL, FALSE, 'standard | enhanced (set by the route).'),
(
    'medication_taken', 'enum', 'medication', NULL, NULL, NULL,
    ARRAY['yes', 'no', 'partial', 'not_applicable', 'not tracked'], FALSE, 'Medication taken today.'
),
('missed_doses', 'integer', 'medication', 0, 50, NULL, NULL, FALSE, 'Doses missed, 0-50.'),
('injection_confidence', 'integer', 'medication', 1, 10, NULL, NULL, FALSE, 'Injection confidence, 1-10.'),
('side_effects', 'string_array', 'symptom', NULL, NULL, 1000, NULL, FALSE, 'Side effects today.'),
('physical_symptoms', 'array', 'symptom', NULL, NULL, NULL, NULL, FALSE, 'Physical symptoms today.'),
('symptom_severity', 'object', 'symptom', NULL, NULL, NULL, NULL, FALSE, 'Severity per symptom.'),
('phq4_feeling_nervous', 'integer', 'assessment', 0, 3, NULL, NULL, FALSE, 'PHQ-4 item 1, 0-3.'),
('phq4_stop_worrying', 'integer', 'assessment', 0, 3, NULL, NULL, FALSE, 'PHQ-4 item 2, 0-3.'),
('phq4_little_interest', 'integer', 'assessment', 0, 3, NULL, NULL, FALSE, 'PHQ-4 item 3, 0-3.'),
('phq4_feeling_down', 'integer', 'assessment', 0, 3, NULL, NULL, FALSE, 'PHQ-4 item 4, 0-3.'),
('phq4_score', 'integer', 'assessment', 0, 12, NULL, NULL, FALSE, 'PHQ-4 total (derived from the items).'),
('phq4_anxiety', 'integer', 'assessment', 0, 6, NULL, NULL, FALSE, 'PHQ-4 anxiety (items 1+2).'),
('phq4_depression', 'integer', 'assessment', 0, 6, NULL, NULL, FALSE, 'PHQ-4 depression (items 3+4).');
