-- Insights, the legacy V1 check-in table, and the record of metrics refreshes.

CREATE TABLE public.insights (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    insight_type text NOT NULL,
    category text NOT NULL DEFAULT 'daily',
    priority smallint NOT NULL DEFAULT 5,
    title text NOT NULL,
    message text NOT NULL,
    icon text,
    confidence numeric(3, 2),
    local_date date NOT NULL,
    analysis_data jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    CONSTRAINT insights_priority_range CHECK (priority BETWEEN 1 AND 10),
    CONSTRAINT insights_confidence_range CHECK (confidence BETWEEN 0 AND 1),
    CONSTRAINT insights_analysis_object CHECK (jsonb_typeof(analysis_data) = 'object')
);
CREATE UNIQUE INDEX insights_one_daily_per_day ON public.insights (user_id, local_date) WHERE category = 'daily';
CREATE INDEX insights_user_created ON public.insights (user_id, created_at DESC);
COMMENT ON TABLE public.insights IS
'Generated insights and recommendations: type (no_data, mood_improvement, ...), category (daily, micro, '
'...), priority 1-10, title/message/icon, confidence 0-1, the local day it is for, the analysis it came '
'from, and an optional expiry. At most one daily insight per user per local day.';

-- The V1 schema's table, used while USE_SCHEMA_V2=false (and kept current for rollback).
CREATE TABLE public.daily_checkins (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    date_submitted date NOT NULL,
    mood_today text NOT NULL,
    confidence_today smallint NOT NULL,
    medication_taken text NOT NULL DEFAULT 'not tracked',
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
    phq4_depression smallint,
    checkin_type text NOT NULL DEFAULT 'standard',
    extra_fields jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT daily_checkins_one_per_day UNIQUE (user_id, date_submitted),
    CONSTRAINT daily_checkins_extra_object CHECK (jsonb_typeof(extra_fields) = 'object')
);
COMMENT ON TABLE public.daily_checkins IS
'Legacy V1 check-in table (one mutable row per check-in), used when USE_SCHEMA_V2=false. Columns for the '
'core fields; every other accepted field (and unknown extras) in extra_fields, verbatim.';

CREATE TABLE public.metrics_refresh_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_name text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms integer NOT NULL,
    was_concurrent boolean NOT NULL
);
CREATE INDEX metrics_refresh_log_view ON public.metrics_refresh_log (view_name, refreshed_at DESC);
COMMENT ON TABLE public.metrics_refresh_log IS
'One row per refresh of user_daily_metrics / user_weekly_metrics by core.refresh_user_metrics().';
