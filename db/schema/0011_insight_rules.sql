-- valid-checksum: 81437660a08d636d756aca3195f48ef1ded5cd9a7ced81a9b496c67b594048c9
-- (a comment reworded since: the same objects result)
-- Insights, metrics and questions as data (docs/metrics.md): the rules behind the daily insight, the
-- micro insights, the risk and protective factors and the cycle-completion estimate; the check-in question
-- bank and its focus dimensions; and the per-user engagement and feedback rows.
--
-- A rule's condition is a small JSON expression over named facts computed by the functions
-- (core.rule_matches): {} is always true; {"all": [c, ...]}, {"any": [c, ...]}, {"not": c};
-- {"fact": "name", "op": "=|<>|>|>=|<|<=|in|is_null|not_null", "value": v}. A fact that is absent or null
-- makes a comparison false. Templates ({fact_name} placeholders) are filled from the same facts.

CREATE TABLE public.insight_rules (
    rule_set text NOT NULL,
    rule_key text NOT NULL,
    priority smallint NOT NULL,
    condition jsonb NOT NULL DEFAULT '{}',
    insight_type text NOT NULL,
    title text,
    message text NOT NULL,
    sub_message text,
    icon text,
    action jsonb,
    confidence_base numeric(3, 2),
    confidence_step numeric(3, 2),
    confidence_max numeric(3, 2),
    score_delta integer,
    enabled boolean NOT NULL DEFAULT TRUE,
    description text NOT NULL,
    CONSTRAINT insight_rules_pkey PRIMARY KEY (rule_set, rule_key),
    CONSTRAINT insight_rules_set_check CHECK (
        rule_set IN (
            'daily', 'micro', 'micro_onboarding', 'micro_checkin', 'risk_factor', 'protective_factor',
            'completion'
        )
    ),
    CONSTRAINT insight_rules_key_format CHECK (rule_key ~ '^[a-z][a-z0-9_]{0,49}$'),
    CONSTRAINT insight_rules_type_format CHECK (insight_type ~ '^[a-z][a-z0-9_]{0,49}$'),
    CONSTRAINT insight_rules_priority_range CHECK (priority BETWEEN 1 AND 10),
    CONSTRAINT insight_rules_condition_object CHECK (jsonb_typeof(condition) = 'object'),
    CONSTRAINT insight_rules_action_shape CHECK (
        action IS NULL OR (jsonb_typeof(action) = 'object' AND action ? 'label' AND action ? 'type')
    ),
    CONSTRAINT insight_rules_confidence_range CHECK (
        confidence_base BETWEEN 0 AND 1 AND confidence_step BETWEEN 0 AND 1 AND confidence_max BETWEEN 0 AND 1
    ),
    CONSTRAINT insight_rules_daily_confidence CHECK (
        rule_set <> 'daily'
        OR (
            confidence_base IS NOT NULL AND confidence_step IS NOT NULL AND confidence_max IS NOT NULL
            AND title IS NOT NULL
        )
    ),
    CONSTRAINT insight_rules_completion_delta CHECK (rule_set <> 'completion' OR score_delta IS NOT NULL)
);

COMMENT ON TABLE public.insight_rules IS
'Rules kept as data, evaluated over facts the functions compute: rule_set daily (GET /api/insights/daily), '
'micro (GET micro), micro_onboarding / micro_checkin (POST micro), risk_factor / protective_factor and '
'completion (GET /api/users/metrics). The highest priority matching rule wins (then rule_key); condition is '
'a JSON expression (see core.rule_matches); title/message/sub_message are templates with {fact} placeholders.';
COMMENT ON COLUMN public.insight_rules.priority IS
'1-10, higher first; a daily insight stores it as insights.priority.';
COMMENT ON COLUMN public.insight_rules.condition IS
'{} (always), {"all": [...]}, {"any": [...]}, {"not": c}, {"fact": name, "op": =|<>|>|>=|<|<=|in|is_null|'
'not_null, "value": v}; an absent or null fact makes a comparison false.';
COMMENT ON COLUMN public.insight_rules.confidence_base IS
'Daily rules: confidence = least(confidence_max, confidence_base + confidence_step * days with a check-in).';
COMMENT ON COLUMN public.insight_rules.score_delta IS
'Completion rules: points added to cycleCompletionProbability when the condition holds (clamped to 5-95).';
COMMENT ON COLUMN public.insight_rules.action IS 'POST micro rules: {label, type} of the suggested action, or NULL.';

INSERT INTO public.insight_rules (
    rule_set, rule_key, priority, condition, insight_type, title, message, icon,
    confidence_base, confidence_step, confidence_max, description
) VALUES
(
    'daily', 'support_needed', 10,
    '{"any": [{"fact": "latest_anxiety", "op": ">=", "value": 8},
              {"fact": "latest_mood_score", "op": "<=", "value": 2}]}',
    'support_needed', 'We''re here for you',
    'Your last check-in ({latest_date}) showed a really hard day. Be gentle with yourself, {name}, and consider '
    'reaching out to your care team or someone you trust.',
    '💙', 0.70, 0.04, 0.95,
    'The latest check-in of the window has anxiety >= 8 or a mood score <= 2.'
),
(
    'daily', 'assessment_alert', 9,
    '{"fact": "latest_phq4_total", "op": ">=", "value": 6}',
    'assessment_alert', 'Check in with your care team',
    'Your latest PHQ-4 score was {latest_phq4_total} out of 12, which points to notable anxiety or low mood. '
    'Sharing this with your clinic or a counsellor can help.',
    '🩺', 0.70, 0.04, 0.95,
    'The most recent PHQ-4 total (sum of the four items) in the window is >= 6.'
),
(
    'daily', 'no_data', 8,
    '{"fact": "checkins_analyzed", "op": "=", "value": 0}',
    'no_data', 'Start with a check-in',
    'Hi {name}, there are no check-ins in the last 7 days yet. A one-minute check-in today unlocks insights '
    'tailored to your journey.',
    '🌱', 0.50, 0.00, 0.50,
    'No check-in in the last 7 local days.'
),
(
    'daily', 'mood_improvement', 6,
    '{"all": [{"fact": "mood_scored_days", "op": ">=", "value": 3},
              {"fact": "mood_change", "op": ">", "value": 0.5}]}',
    'mood_improvement', 'Your mood is lifting',
    'Your mood score rose from {mood_earlier} to {mood_later} over your last {mood_scored_days} check-ins. '
    'Whatever you are doing is helping.',
    '📈', 0.40, 0.08, 0.95,
    'At least 3 days with a known mood score and the later half averages more than 0.5 above the earlier half.'
),
(
    'daily', 'perfect_adherence', 5,
    '{"all": [{"fact": "medication_tracked_days", "op": ">=", "value": 3},
              {"fact": "medication_missed_days", "op": "=", "value": 0},
              {"fact": "medication_partial_days", "op": "=", "value": 0}]}',
    'perfect_adherence', 'Perfect medication week',
    'You took your medication on all {medication_tracked_days} days you tracked it this week. That consistency '
    'really matters.',
    '💊', 0.40, 0.08, 0.95,
    'At least 3 tracked medication answers (yes/no/partial) in the window, all yes.'
),
(
    'daily', 'consistency', 4,
    '{"fact": "checkins_analyzed", "op": ">=", "value": 5}',
    'consistency', 'Great consistency',
    'You checked in on {checkins_analyzed} of the last 7 days. Regular check-ins make your insights sharper.',
    '🔥', 0.40, 0.08, 0.95,
    'At least 5 of the last 7 local days have a check-in.'
),
(
    'daily', 'encouragement', 1, '{}',
    'encouragement', 'Every check-in counts',
    'You checked in on {checkins_analyzed} of the last 7 days, {name}. Keep going: each one helps you see your '
    'patterns more clearly.',
    '🌟', 0.30, 0.08, 0.80,
    'Fallback: any other week with at least one check-in.'
);

INSERT INTO public.insight_rules (
    rule_set, rule_key, priority, condition, insight_type, message, sub_message, icon,
    description
) VALUES
(
    'micro', 'welcome', 9, '{"fact": "total_checkins", "op": "=", "value": 0}', 'welcome',
    'Welcome, {name}! 🌱', 'Your first check-in takes less than a minute.', '🌱',
    'No check-in yet.'
),
(
    'micro', 'streak', 8,
    '{"all": [{"fact": "checked_in_today", "op": "=", "value": true}, {"fact": "streak", "op": ">=", "value": 3}]}',
    'streak', '{streak} days in a row, {name}!', 'Your check-ins are building a clear picture of your journey.',
    '🔥', 'Checked in today, on a streak of at least 3 days.'
),
(
    'micro', 'checked_in_today', 7, '{"fact": "checked_in_today", "op": "=", "value": true}', 'encouragement',
    'Thanks for checking in today, {name}.', 'Small steps add up.', '💛',
    'Checked in today.'
),
(
    'micro', 'welcome_back', 6, '{"fact": "days_since_last_checkin", "op": ">=", "value": 3}', 'welcome_back',
    'Welcome back, {name}.', 'Pick up where you left off with a quick check-in.', '👋',
    'The last check-in is 3 or more days old.'
),
(
    'micro', 'ready', 1, '{}', 'encouragement',
    'Ready for today''s check-in, {name}?', 'A minute of reflection can make the day lighter.', '✨',
    'Fallback.'
);

INSERT INTO public.insight_rules (
    rule_set, rule_key, priority, condition, insight_type, title, message, action,
    icon, description
) VALUES
(
    'micro_checkin', 'hard_day', 9,
    '{"any": [{"fact": "mood_score", "op": "<=", "value": 3}, {"fact": "anxiety_level", "op": ">=", "value": 7}]}',
    'support', 'Thank you for being honest',
    'Hard days are part of this journey, {name}. A few slow breaths or a short walk can take the edge off.',
    '{"label": "Try a breathing exercise", "type": "breathing"}', '💙',
    'The check-in sent has a mood score <= 3 or anxiety >= 7.'
),
(
    'micro_checkin', 'missed_medication', 8,
    '{"any": [{"fact": "medication_taken", "op": "=", "value": "no"},
              {"fact": "missed_doses", "op": ">=", "value": 1}]}',
    'medication', 'Missed a dose?',
    'It happens. Check your clinic''s instructions for missed doses, and set a reminder for tomorrow.',
    '{"label": "Set a reminder", "type": "reminder"}', '💊',
    'Medication not taken or missed doses reported.'
),
(
    'micro_checkin', 'strong_day', 7,
    '{"any": [{"fact": "confidence_today", "op": ">=", "value": 8}, {"fact": "mood_score", "op": ">=", "value": 8}]}',
    'celebration', 'You''re feeling strong',
    'Your confidence today is {confidence_today}/10. Notice what helped, so you can come back to it.',
    NULL, '🎉',
    'Confidence >= 8 or a mood score >= 8.'
),
(
    'micro_checkin', 'saved', 1, '{}', 'encouragement', 'Check-in saved',
    'Every check-in helps you see your patterns more clearly, {name}.',
    '{"label": "View your insights", "type": "view_insights"}', '🌟',
    'Fallback for a check-in.'
),
(
    'micro_onboarding', 'focus_financial', 8, '{"fact": "low_confidence_area", "op": "=", "value": "financial"}',
    'financial', 'Costs feel heavy right now',
    'You rated your confidence about costs {confidence_costs}/10. Many people feel this way; we will share '
    'practical ways to plan treatment costs.',
    '{"label": "Explore cost resources", "type": "financial_resources"}', '💰',
    'The lowest onboarding confidence (<= 4) is about costs.'
),
(
    'micro_onboarding', 'focus_medication', 8, '{"fact": "low_confidence_area", "op": "=", "value": "medication"}',
    'medication', 'Medications can feel daunting',
    'You rated your medication confidence {confidence_meds}/10. Step-by-step guidance and reminders can make '
    'it easier.',
    '{"label": "Learn about your medications", "type": "medication_guide"}', '💊',
    'The lowest onboarding confidence (<= 4) is about medications.'
),
(
    'micro_onboarding', 'focus_journey', 8, '{"fact": "low_confidence_area", "op": "=", "value": "journey"}',
    'journey', 'One step at a time',
    'You rated your overall confidence {confidence_overall}/10. We will check in daily and help you notice '
    'what makes things lighter.',
    '{"label": "Start your first check-in", "type": "checkin"}', '🧭',
    'The lowest onboarding confidence (<= 4) is about the journey overall.'
),
(
    'micro_onboarding', 'two_week_wait', 6, '{"fact": "cycle_stage", "op": "=", "value": "tww"}',
    'stage', 'The two-week wait',
    'Waiting is one of the hardest parts, {name}. Daily check-ins can help you ride the ups and downs.',
    '{"label": "Start your first check-in", "type": "checkin"}', '⏳',
    'Cycle stage tww.'
),
(
    'micro_onboarding', 'welcome', 1, '{}', 'welcome', 'Welcome, {name}',
    'Your daily check-ins will be tailored to you. The first one takes less than a minute.',
    '{"label": "Start your first check-in", "type": "checkin"}', '🌱',
    'Fallback welcome.'
);

INSERT INTO public.insight_rules (rule_set, rule_key, priority, condition, insight_type, message, description)
VALUES
(
    'risk_factor', 'elevated_phq4', 10, '{"fact": "current_phq4", "op": ">=", "value": 6}', 'risk',
    'Elevated stress/anxiety levels', 'Latest PHQ-4 total >= 6.'
),
(
    'risk_factor', 'low_adherence', 9,
    '{"all": [{"fact": "adherence_rate", "op": "<", "value": 80},
              {"fact": "medication_tracked_7", "op": ">=", "value": 3}]}',
    'risk', 'Medication adherence below target', 'Adherence < 80 % over at least 3 tracked answers this week.'
),
(
    'risk_factor', 'missed_doses', 8, '{"fact": "missed_doses_week", "op": ">=", "value": 2}', 'risk',
    '{missed_doses_week} missed doses this week', 'At least 2 missed doses in the last 7 local days.'
),
(
    'risk_factor', 'high_anxiety', 8, '{"fact": "anxiety_average", "op": ">=", "value": 7}', 'risk',
    'High anxiety levels this week', 'Mean anxiety_level >= 7 over the last 7 local days.'
),
(
    'risk_factor', 'low_mood', 8, '{"fact": "average_mood", "op": "<=", "value": 3}', 'risk',
    'Low mood this week', 'Mean mood score <= 3 over the last 7 local days.'
),
(
    'risk_factor', 'low_engagement', 7,
    '{"all": [{"fact": "total_checkins", "op": ">=", "value": 3},
              {"fact": "checkin_rate_30", "op": "<", "value": 50}]}',
    'risk', 'Low engagement with tracking',
    'At least 3 check-ins ever, but fewer than half of the tracked days (last 30, or since signup) have one.'
),
(
    'risk_factor', 'streak_broken', 6,
    '{"all": [{"fact": "streak", "op": "=", "value": 0}, {"fact": "total_checkins", "op": ">=", "value": 7}]}',
    'risk', 'Check-in streak broken', 'No check-in today or yesterday after at least 7 check-ins.'
),
(
    'protective_factor', 'long_streak', 10, '{"fact": "streak", "op": ">=", "value": 7}', 'protective',
    '{streak}-day check-in streak', 'A streak of at least 7 days.'
),
(
    'protective_factor', 'excellent_adherence', 9,
    '{"all": [{"fact": "adherence_rate", "op": ">=", "value": 90},
              {"fact": "medication_tracked_7", "op": ">=", "value": 3}]}',
    'protective', 'Excellent medication adherence', 'Adherence >= 90 % over at least 3 tracked answers this week.'
),
(
    'protective_factor', 'low_phq4', 9, '{"fact": "current_phq4", "op": "<", "value": 3}', 'protective',
    'Strong mental well-being', 'Latest PHQ-4 total < 3.'
),
(
    'protective_factor', 'consistent', 8, '{"fact": "streak", "op": ">=", "value": 3}', 'protective',
    'Consistent daily check-ins', 'A streak of at least 3 days.'
),
(
    'protective_factor', 'positive_mood', 7, '{"fact": "average_mood", "op": ">=", "value": 7}', 'protective',
    'Positive mood this week', 'Mean mood score >= 7 over the last 7 local days.'
),
(
    'protective_factor', 'partner_support', 7, '{"fact": "partner_rate", "op": ">=", "value": 50}', 'protective',
    'Partner involved in your journey', 'Partner involved on at least half of the answered days (last 30).'
),
(
    'protective_factor', 'coping_strategies', 6, '{"fact": "coping_strategy_count", "op": ">=", "value": 1}',
    'protective', 'Actively using coping strategies', 'At least one coping strategy used in the last 30 days.'
),
(
    'protective_factor', 'great_start', 5,
    '{"all": [{"fact": "total_checkins", "op": ">=", "value": 1}, {"fact": "total_checkins", "op": "<", "value": 3}]}',
    'protective', 'Great start on your tracking journey', 'One or two check-ins so far.'
);

INSERT INTO public.insight_rules (
    rule_set, rule_key, priority, condition, insight_type, message, score_delta,
    description
) VALUES
('completion', 'base', 1, '{}', 'completion', 'Base estimate', 50, 'Everyone starts at 50.'),
(
    'completion', 'adherence_90', 5, '{"fact": "adherence_rate", "op": ">=", "value": 90}', 'completion',
    'Adherence >= 90 %', 15, 'This week''s adherence >= 90.'
),
(
    'completion', 'adherence_80', 5,
    '{"all": [{"fact": "adherence_rate", "op": ">=", "value": 80},
              {"fact": "adherence_rate", "op": "<", "value": 90}]}',
    'completion', 'Adherence 80-89 %', 10, 'This week''s adherence in [80, 90).'
),
(
    'completion', 'adherence_70', 5,
    '{"all": [{"fact": "adherence_rate", "op": ">=", "value": 70},
              {"fact": "adherence_rate", "op": "<", "value": 80}]}',
    'completion', 'Adherence 70-79 %', 5, 'This week''s adherence in [70, 80).'
),
(
    'completion', 'phq4_low', 5, '{"fact": "current_phq4", "op": "<", "value": 3}', 'completion',
    'PHQ-4 < 3', 15, 'Latest PHQ-4 total < 3.'
),
(
    'completion', 'phq4_mild', 5,
    '{"all": [{"fact": "current_phq4", "op": ">=", "value": 3}, {"fact": "current_phq4", "op": "<", "value": 6}]}',
    'completion', 'PHQ-4 3-5', 10, 'Latest PHQ-4 total in [3, 6).'
),
(
    'completion', 'phq4_moderate', 5,
    '{"all": [{"fact": "current_phq4", "op": ">=", "value": 6}, {"fact": "current_phq4", "op": "<", "value": 9}]}',
    'completion', 'PHQ-4 6-8', 5, 'Latest PHQ-4 total in [6, 9).'
),
(
    'completion', 'engaged_70', 5, '{"fact": "checkin_rate_30", "op": ">=", "value": 70}', 'completion',
    'Check-ins on >= 70 % of days', 10, 'Check-in rate (last 30 days or since signup) >= 70.'
),
(
    'completion', 'engaged_50', 5,
    '{"all": [{"fact": "checkin_rate_30", "op": ">=", "value": 50},
              {"fact": "checkin_rate_30", "op": "<", "value": 70}]}',
    'completion', 'Check-ins on 50-69 % of days', 5, 'Check-in rate in [50, 70).'
);

-- The check-in question bank: the three focus dimensions and the questions.
CREATE TABLE public.checkin_focus_dimensions (
    dimension text PRIMARY KEY,
    rotation_index smallint NOT NULL,
    profile_field text NOT NULL,
    low_confidence_at_or_below smallint NOT NULL DEFAULT 4,
    label text NOT NULL,
    CONSTRAINT checkin_focus_dimensions_rotation_key UNIQUE (rotation_index),
    CONSTRAINT checkin_focus_dimensions_rotation_range CHECK (rotation_index >= 0),
    CONSTRAINT checkin_focus_dimensions_profile_field CHECK (
        profile_field IN ('confidence_meds', 'confidence_costs', 'confidence_overall')
    ),
    CONSTRAINT checkin_focus_dimensions_threshold CHECK (low_confidence_at_or_below BETWEEN 1 AND 10)
);
COMMENT ON TABLE public.checkin_focus_dimensions IS
'Focus dimensions of the daily questions: the day''s dimension is the one whose rotation_index = (local date '
'- 2000-01-01) mod (number of dimensions), unless an onboarding confidence (profile_field) is at or below '
'low_confidence_at_or_below: then the lowest such confidence wins (ties: the rotation order from today).';

INSERT INTO public.checkin_focus_dimensions (dimension, rotation_index, profile_field, label) VALUES
('medication', 0, 'confidence_meds', 'Medication'),
('financial', 1, 'confidence_costs', 'Costs and finances'),
('journey', 2, 'confidence_overall', 'Your journey');

CREATE TABLE public.checkin_questions (
    id text PRIMARY KEY,
    focus_dimension text REFERENCES public.checkin_focus_dimensions (dimension),
    question_type text NOT NULL,
    question text NOT NULL,
    placeholder text,
    min_value smallint,
    max_value smallint,
    options jsonb,
    required boolean NOT NULL DEFAULT FALSE,
    priority smallint NOT NULL,
    context text,
    condition jsonb NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT TRUE,
    CONSTRAINT checkin_questions_id_format CHECK (id ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT checkin_questions_type_check CHECK (question_type IN ('text', 'slider', 'select')),
    CONSTRAINT checkin_questions_slider_bounds CHECK (
        question_type <> 'slider' OR (min_value IS NOT NULL AND max_value IS NOT NULL AND min_value < max_value)
    ),
    CONSTRAINT checkin_questions_select_options CHECK (
        question_type <> 'select' OR (jsonb_typeof(options) = 'array' AND jsonb_array_length(options) > 0)
    ),
    CONSTRAINT checkin_questions_condition_object CHECK (jsonb_typeof(condition) = 'object'),
    CONSTRAINT checkin_questions_priority_range CHECK (priority BETWEEN 1 AND 100)
);
COMMENT ON TABLE public.checkin_questions IS
'The daily check-in question bank. id is the check-in field the answer goes to. focus_dimension NULL: asked '
'every day (mood, confidence); else asked on the days that dimension is the focus. condition (same language '
'as insight_rules) is evaluated over the profile facts; context is a template ({fact} placeholders). Lower '
'priority is asked first.';

INSERT INTO public.checkin_questions (
    id, focus_dimension, question_type, question, placeholder, min_value, max_value, options, required, priority,
    context, condition
) VALUES
(
    'mood_today', NULL, 'select', 'How are you feeling today?', NULL, NULL, NULL,
    '["hopeful", "anxious", "overwhelmed", "frustrated", "grateful", "tired", "excited", "worried", "neutral",
      "amazing", "good", "okay", "tough", "very tough", "confident", "optimistic"]',
    TRUE, 1, 'Pick every word that fits today.', '{}'
),
(
    'confidence_today', NULL, 'slider', 'How confident do you feel about your journey today?', NULL, 1, 10, NULL,
    TRUE, 2, NULL, '{}'
),
(
    'medication_taken', 'medication', 'select', 'Did you take your medication as planned today?', NULL, NULL, NULL,
    '["yes", "no", "partial", "not_applicable"]', FALSE, 10, NULL,
    '{"not": {"fact": "medication_status", "op": "in", "value": ["not_taking", "finished_treatment"]}}'
),
(
    'medication_confidence_today', 'medication', 'slider',
    'How confident do you feel about managing your medications today?', NULL, 1, 10, NULL, FALSE, 11,
    'At onboarding you rated your medication confidence {confidence_meds}/10.', '{}'
),
(
    'medication_concern_today', 'medication', 'text', 'Is anything about your medications on your mind?',
    'e.g. injection timing, side effects, refills', NULL, NULL, NULL, FALSE, 12, NULL, '{}'
),
(
    'financial_confidence_today', 'financial', 'slider',
    'How confident do you feel about managing treatment costs today?', NULL, 1, 10, NULL, FALSE, 10,
    'At onboarding you rated your confidence about costs {confidence_costs}/10.', '{}'
),
(
    'financial_stress_today', 'financial', 'slider', 'How stressed do you feel about money today?', NULL, 1, 10,
    NULL, FALSE, 11, NULL, '{}'
),
(
    'financial_concern_today', 'financial', 'text', 'Any cost or insurance question on your mind?',
    'e.g. insurance coverage, medication prices, payment plans', NULL, NULL, NULL, FALSE, 12, NULL, '{}'
),
(
    'journey_confidence_today', 'journey', 'slider', 'How confident do you feel about the road ahead today?', NULL,
    1, 10, NULL, FALSE, 10, 'At onboarding you rated your overall confidence {confidence_overall}/10.', '{}'
),
(
    'journey_readiness_today', 'journey', 'slider', 'How ready do you feel for your next step?', NULL, 1, 10, NULL,
    FALSE, 11, NULL, '{}'
),
(
    'journey_reflection_today', 'journey', 'text', 'What is one thing you want to remember about today?',
    'A moment, a feeling, a small win…', NULL, NULL, NULL, FALSE, 12, NULL, '{}'
);

-- Engagement and feedback: per-user rows, isolated by row-level security like every per-user table.
CREATE TABLE public.insight_engagement (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    insight_id uuid REFERENCES public.insights (id) ON DELETE SET NULL,
    insight_type text NOT NULL,
    action text NOT NULL,
    local_date date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT insight_engagement_action_check CHECK (
        action IN ('viewed', 'clicked', 'dismissed', 'refreshed', 'liked', 'saved')
    ),
    CONSTRAINT insight_engagement_type_length CHECK (char_length(insight_type) BETWEEN 1 AND 50)
);
CREATE INDEX insight_engagement_user_date ON public.insight_engagement (user_id, local_date);
CREATE INDEX insight_engagement_insight ON public.insight_engagement (insight_id) WHERE insight_id IS NOT NULL;
COMMENT ON TABLE public.insight_engagement IS
'One row per engagement action (viewed, clicked, dismissed, refreshed, liked, saved) of a user with an insight '
'(insight_type; insight_id when it is a stored insight of that user); local_date is the user''s day of it.';

CREATE TABLE public.insight_feedback (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    insight_id uuid NOT NULL REFERENCES public.insights (id) ON DELETE CASCADE,
    helpful boolean NOT NULL,
    comment text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT insight_feedback_one_per_insight UNIQUE (user_id, insight_id),
    CONSTRAINT insight_feedback_comment_length CHECK (char_length(comment) <= 2000)
);
CREATE INDEX insight_feedback_insight ON public.insight_feedback (insight_id);
COMMENT ON TABLE public.insight_feedback IS
'Was this insight helpful? One row per user and insight (the latest answer wins), with an optional comment.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['insight_engagement', 'insight_feedback']
    LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON public.%I USING (user_id = (SELECT core.current_user_id())) '
            'WITH CHECK (user_id = (SELECT core.current_user_id()))',
            t || '_owner', t
        );
        EXECUTE format(
            'CREATE POLICY %I ON public.%I FOR SELECT TO novara_analyst USING (TRUE)', t || '_analyst_read', t
        );
    END LOOP;
END
$$;

-- Per-user reads by event type (latest PHQ-4, medication answers of all time) and insights by local day.
CREATE INDEX health_events_user_type_date ON public.health_events (user_id, event_type, local_date);
CREATE INDEX insights_user_local_date ON public.insights (user_id, local_date);

GRANT SELECT ON public.insight_rules, public.checkin_focus_dimensions, public.checkin_questions,
public.insight_engagement, public.insight_feedback TO novara_api;
GRANT SELECT ON public.insight_rules, public.checkin_focus_dimensions, public.checkin_questions TO novara_definer;
GRANT SELECT, INSERT ON public.insight_engagement TO novara_definer;
GRANT SELECT, INSERT, UPDATE ON public.insight_feedback TO novara_definer;
GRANT SELECT ON public.insight_rules, public.checkin_focus_dimensions, public.checkin_questions,
public.insight_engagement, public.insight_feedback TO novara_analyst;
