-- What the existing web app needs to see the right things (docs/metrics.md, docs/design-v2.md):
--
-- 1. Engagement and feedback keep the client's own reference of an insight. The app names the insight it
--    shows with an id of its own making ("<type>_<milliseconds>"); only a UUID of one of the caller's stored
--    insights links a row to that insight, anything else is kept verbatim as client_ref.
-- 2. A stored daily insight remembers the inputs it was computed from (inputs_fingerprint): it is reused only
--    while they are unchanged, so a check-in made after the first request of the day changes the insight.
--    The unique index that allowed one daily insight per day is replaced by one per day and inputs
--    (0018, built concurrently).
-- 3. The app's V2 client posts daily_checkin_completed after each check-in: a registered type with its rules.

ALTER TABLE public.insight_engagement ADD COLUMN client_ref text
CONSTRAINT insight_engagement_client_ref_length CHECK (char_length(client_ref) BETWEEN 1 AND 200);
COMMENT ON COLUMN public.insight_engagement.client_ref IS
'The insight_id the client sent when it does not name one of the user''s stored insights (the app sends '
'"<type>_<milliseconds>"), verbatim (1-200 characters); NULL when insight_id links the row or no id was sent.';
COMMENT ON COLUMN public.insight_engagement.insight_id IS
'The user''s stored insight this row is about, when the client named it by its UUID; NULL otherwise.';

-- The clients this could break are the functions that write and read the table, changed with it (analysts
-- read rows; a NULL insight_id now means "named by client_ref").
-- squawk-ignore ban-drop-not-null
ALTER TABLE public.insight_feedback ALTER COLUMN insight_id DROP NOT NULL;
ALTER TABLE public.insight_feedback ADD COLUMN client_ref text
CONSTRAINT insight_feedback_client_ref_length CHECK (char_length(client_ref) BETWEEN 1 AND 200);
-- Validated in 0018, outside this transaction (existing rows all have insight_id and no client_ref).
ALTER TABLE public.insight_feedback ADD CONSTRAINT insight_feedback_names_insight
CHECK ((insight_id IS NULL) <> (client_ref IS NULL)) NOT VALID;
COMMENT ON COLUMN public.insight_feedback.client_ref IS
'The insight_id the client sent when it does not name one of the user''s stored insights, verbatim (1-200 '
'characters); exactly one of insight_id and client_ref is set. One row per user and reference (unique index '
'insight_feedback_one_per_client_ref, 0018).';
COMMENT ON COLUMN public.insight_feedback.insight_id IS
'The user''s stored insight this answer is about (one row per user and insight), or NULL when the client '
'named the insight by a reference of its own (client_ref).';

ALTER TABLE public.insights ADD COLUMN inputs_fingerprint text;
COMMENT ON COLUMN public.insights.inputs_fingerprint IS
'Daily insights: what the insight was computed from (core.daily_insight_inputs: the user''s latest event '
'position, the nickname the message names, the daily rules). api.daily_insight returns the stored insight '
'of the day only while it is unchanged; unique per user, day and fingerprint (0018). NULL for insights '
'stored before it existed, which are then computed again.';

INSERT INTO public.event_types (event_type, description, rules) VALUES (
    'daily_checkin_completed',
    'Posted by the web app''s V2 client after each daily check-in: the mood and confidence it submitted and '
    'the note, if any. Informational: the check-in itself is the V1 check-in''s events.',
    '{"required": ["mood", "confidence"], "properties": {
        "mood": {"type": "string", "maxLength": 100, "minLength": 1},
        "confidence": {"type": "integer", "minimum": 1, "maximum": 10},
        "note": {"type": "string", "maxLength": 5000}}}'
);
