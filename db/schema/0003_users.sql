-- valid-checksum: 310918b2135c9f5a0e6d33f42a31ada3ba782a51fbf88a5faf9d8d918a57f9ec
-- (the COMMENT of user_profiles reworded since; 0052 gives databases that applied the former text the same one)
-- Accounts: clean authentication data (users) and the profile (user_profiles).

-- Valid IANA time zone names, copied from the server's tz database when this migration runs, so a
-- profile's timezone is checked by a foreign key (no function in a CHECK constraint).
CREATE TABLE public.timezones (
    name text PRIMARY KEY
);
INSERT INTO public.timezones (name)
SELECT tz.name FROM pg_catalog.pg_timezone_names AS tz
WHERE tz.name NOT LIKE 'posix/%' AND tz.name NOT LIKE 'right/%'
ON CONFLICT DO NOTHING;
COMMENT ON TABLE public.timezones IS
'IANA time zone names accepted for user_profiles.timezone (seeded from pg_timezone_names).';

CREATE TABLE public.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email))),
    CONSTRAINT users_email_format CHECK (email ~ '^[^\s@]+@[^\s@]+\.[^\s@]+$' AND char_length(email) <= 254),
    CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled'))
);
COMMENT ON TABLE public.users IS
'Accounts: authentication data only. Email is stored trimmed and lower-cased, so it is unique '
'case-insensitively. Health data lives in health_events; profile fields in user_profiles.';
COMMENT ON COLUMN public.users.email IS 'Login identity: trimmed, lower-cased, at most 254 characters.';
COMMENT ON COLUMN public.users.status IS 'active | disabled.';

CREATE TABLE public.user_profiles (
    user_id uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    nickname text,
    timezone text NOT NULL DEFAULT 'America/Los_Angeles' REFERENCES public.timezones (name),
    email_opt_in boolean NOT NULL DEFAULT TRUE,
    confidence_meds smallint NOT NULL DEFAULT 5,
    confidence_costs smallint NOT NULL DEFAULT 5,
    confidence_overall smallint NOT NULL DEFAULT 5,
    primary_need text,
    cycle_stage text,
    top_concern text,
    medication_status text,
    onboarding_path text,
    baseline_completed boolean NOT NULL DEFAULT FALSE,
    cycle_stage_updated timestamptz,
    medication_status_updated timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_nickname_length CHECK (char_length(nickname) <= 50),
    CONSTRAINT user_profiles_confidence_range CHECK (
        confidence_meds BETWEEN 1 AND 10
        AND confidence_costs BETWEEN 1 AND 10
        AND confidence_overall BETWEEN 1 AND 10
    ),
    CONSTRAINT user_profiles_text_length CHECK (
        char_length(primary_need) <= 100
        AND char_length(top_concern) <= 200
        AND char_length(onboarding_path) <= 100
    ),
    CONSTRAINT user_profiles_cycle_stage_check CHECK (
        cycle_stage IN (
            'considering', 'ivf_prep', 'stimulation', 'retrieval', 'transfer', 'tww', 'pregnant', 'between_cycles'
        )
    ),
    CONSTRAINT user_profiles_medication_status_check CHECK (
        medication_status IN (
            'taking', 'starting_soon', 'not_taking', 'between_cycles', 'finished_treatment', 'pregnancy_support'
        )
    )
);
COMMENT ON TABLE public.user_profiles IS
'Profile of each user (the profile fields of the account routes, docs/api.md): nickname, IANA timezone '
'(defines the user''s local day), onboarding confidences (1-10), treatment stage and medication status, '
'baseline completion.';
COMMENT ON COLUMN public.user_profiles.timezone IS
'IANA zone; a "day" for this user is the local calendar day in this zone.';
COMMENT ON COLUMN public.user_profiles.baseline_completed IS
'Set by the baseline route, and turned true automatically once nickname, primary_need, cycle_stage '
'and the three confidences are set.';
COMMENT ON COLUMN public.user_profiles.cycle_stage_updated IS 'When cycle_stage last changed.';
COMMENT ON COLUMN public.user_profiles.medication_status_updated IS 'When medication_status last changed.';

-- Audit of erasures (right to be forgotten): no email, no health data; the user id only as a hash.
CREATE TABLE public.erasure_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id_sha256 text NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now(),
    performed_by text NOT NULL DEFAULT current_user,
    reason text,
    events_deleted integer NOT NULL,
    checkins_deleted integer NOT NULL,
    insights_deleted integer NOT NULL
);
COMMENT ON TABLE public.erasure_log IS
'One row per erased user (core.erase_user): counts of what was removed, who did it and why; the user id '
'only as a SHA-256 hash, no email and no health data.';
