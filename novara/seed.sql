-- Synthetic users and history (schema seed; loaded into benchmark, load-test and demo databases only, never a
-- migration): the benchmark's data set and the reliability suite's load users.
--
-- Deterministic: every value comes from seed.rnd(seed, user number, day, salt), a hash, so the same seed
-- on the same PostgreSQL version gives the same data. Users are created through api.signup. Check-ins and
-- V2 events are first planned (seed.plan_checkins, seed.plan_events), then written either
--   * set-based (seed.load_bulk): INSERTs that write exactly the rows api.create_checkin and
--     api.create_event would write: the check-ins' rows in daily_checkins (core.legacy_row, what core.legacy_put
--     writes) and their events (the payload split mirrors core.checkin_payloads; the generator writes no extra
--     fields, so the groups are the registry's keys), or
--   * through the real functions (seed.load_functions), one call per check-in / event.
-- bench/tests/test_generator.py proves both paths write identical rows.

CREATE SCHEMA IF NOT EXISTS seed;

CREATE TABLE IF NOT EXISTS seed.users (
    email text PRIMARY KEY,
    cohort text NOT NULL,
    k integer NOT NULL,
    user_id uuid NOT NULL,
    tz text NOT NULL,
    days integer NOT NULL,
    p_checkin double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS seed_users_cohort ON seed.users (cohort, k);

CREATE UNLOGGED TABLE IF NOT EXISTS seed.plan_checkins (
    checkin_id uuid NOT NULL DEFAULT gen_random_uuid(),
    k integer NOT NULL,
    user_id uuid NOT NULL,
    local_date date NOT NULL,
    occurred_at timestamptz NOT NULL,
    fields jsonb NOT NULL
);

CREATE UNLOGGED TABLE IF NOT EXISTS seed.plan_events (
    k integer NOT NULL,
    user_id uuid NOT NULL,
    ord integer NOT NULL,
    event_type text NOT NULL,
    event_data jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    local_date date NOT NULL
);

-- A uniform number in [0, 1) from (seed, user number, day, salt).
CREATE OR REPLACE FUNCTION seed.rnd(p_seed integer, p_k integer, p_day integer, p_salt integer)
RETURNS double precision
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT ((hashint8extended((p_k::bigint << 20) + p_day, (p_seed::bigint << 16) + p_salt) >> 11)
        & 9007199254740991)::double precision / 9007199254740992.0
$$;

-- An integer in [lo, hi] from a uniform number.
CREATE OR REPLACE FUNCTION seed.pick(p_r double precision, p_lo integer, p_hi integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT p_lo + least(p_hi - p_lo, floor(p_r * (p_hi - p_lo + 1))::integer)
$$;

-- Sign up users p_from .. p_from + p_count - 1 of a cohort through api.signup, with a complete profile
-- (baseline_completed), a timezone from a realistic list, and p_days days of history to plan.
CREATE OR REPLACE FUNCTION seed.signup_users(
    p_seed integer, p_cohort text, p_prefix text, p_from integer, p_count integer, p_days integer,
    p_checkin double precision
)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    zones CONSTANT text[] := ARRAY[
        'America/Los_Angeles', 'America/New_York', 'America/Chicago', 'America/Denver', 'Europe/London',
        'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata'
    ];
    stages CONSTANT text[] := ARRAY['considering', 'ivf_prep', 'stimulation', 'retrieval', 'transfer', 'tww',
        'between_cycles'];
    needs CONSTANT text[] := ARRAY['emotional_support', 'medication_guidance', 'financial_planning',
        'partner_support'];
    n integer := 0;
    k integer;
    v_email text;
    v_tz text;
    v_user jsonb;
BEGIN
    FOR k IN p_from .. p_from + p_count - 1 LOOP
        v_email := p_prefix || k || '@bench.invalid';
        v_tz := zones[seed.pick(seed.rnd(p_seed, k, 0, 1), 1, cardinality(zones))];
        v_user := api.signup(jsonb_build_object(
            'email', v_email,
            'nickname', 'User ' || k,
            'timezone', v_tz,
            'primary_need', needs[seed.pick(seed.rnd(p_seed, k, 0, 2), 1, cardinality(needs))],
            'cycle_stage', stages[seed.pick(seed.rnd(p_seed, k, 0, 3), 1, cardinality(stages))],
            'confidence_meds', seed.pick(seed.rnd(p_seed, k, 0, 4), 1, 10),
            'confidence_costs', seed.pick(seed.rnd(p_seed, k, 0, 5), 1, 10),
            'confidence_overall', seed.pick(seed.rnd(p_seed, k, 0, 6), 1, 10),
            'medication_status', 'taking',
            'top_concern', 'medication side effects'
        )) -> 'user';
        INSERT INTO seed.users (email, cohort, k, user_id, tz, days, p_checkin)
        VALUES (v_email, p_cohort, k, (v_user ->> 'id')::uuid, v_tz, p_days, p_checkin);
        n := n + 1;
    END LOOP;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN n;
END
$$;

-- Plan the check-ins and V2 events of a cohort's users k in [p_k_from, p_k_to): the last `days` local days
-- (today included) of each. Returns the number of planned check-ins.
CREATE OR REPLACE FUNCTION seed.plan(p_seed integer, p_cohort text, p_k_from integer, p_k_to integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    words text[];
    scores integer[];
    effects CONSTANT text[] := ARRAY['bloating', 'headache', 'fatigue', 'nausea', 'mood swings', 'cramping',
        'breast tenderness', 'hot flashes'];
    coping CONSTANT text[] := ARRAY['breathing', 'walk', 'journaling', 'talking to partner', 'meditation'];
    concerns CONSTANT text[] := ARRAY['medication', 'costs', 'waiting for results', 'side effects', 'work'];
    notes CONSTANT text[] := ARRAY['Long day at the clinic.', 'Felt better after a walk.',
        'Nervous about the next appointment.', 'Slept badly, injections went fine.', 'Good talk with my partner.'];
    activities CONSTANT text[] := ARRAY['walk', 'yoga', 'swim', 'cycling', 'stretching'];
    intensities CONSTANT text[] := ARRAY['low', 'moderate', 'high'];
    n bigint;
BEGIN
    SELECT array_agg(m.word ORDER BY m.score, m.word), array_agg(m.score::integer ORDER BY m.score, m.word)
    INTO words, scores
    FROM public.mood_scores AS m;

    INSERT INTO seed.plan_checkins (k, user_id, local_date, occurred_at, fields)
    SELECT
        d.k, d.user_id, d.local_date,
        CASE WHEN d.day_no = 0 THEN now() ELSE (d.local_date + TIME '12:00') AT TIME ZONE d.tz END,
        jsonb_strip_nulls(jsonb_build_object(
            'mood_today', words[d.w1] || CASE WHEN d.w2 <> d.w1 THEN ', ' || words[d.w2] ELSE '' END,
            'confidence_today', greatest(1, least(10, scores[d.w1] + seed.pick(seed.rnd(p_seed, d.k, d.day_no, 13),
                -2, 2))),
            'anxiety_level', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 14) < 0.6
                THEN greatest(1, least(10, 11 - scores[d.w1] + seed.pick(seed.rnd(p_seed, d.k, d.day_no, 15), -2,
                    2))) END,
            'medication_taken', d.med,
            'missed_doses', CASE WHEN d.med = 'no' THEN seed.pick(seed.rnd(p_seed, d.k, d.day_no, 16), 1, 2) END,
            'side_effects', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 17) < 0.3
                THEN to_jsonb((effects || effects)[d.fx + 1:d.fx + seed.pick(seed.rnd(p_seed, d.k, d.day_no, 18), 1,
                    3)]) END,
            'user_note', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 19) < 0.15
                THEN notes[seed.pick(seed.rnd(p_seed, d.k, d.day_no, 20), 1, cardinality(notes))] END,
            'primary_concern_today', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 21) < 0.2
                THEN concerns[seed.pick(seed.rnd(p_seed, d.k, d.day_no, 22), 1, cardinality(concerns))] END,
            'coping_strategies_used', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 23) < 0.2
                THEN to_jsonb((coping || coping)[d.cx + 1:d.cx + seed.pick(seed.rnd(p_seed, d.k, d.day_no, 24), 1,
                    2)]) END,
            'partner_involved_today', CASE WHEN seed.rnd(p_seed, d.k, d.day_no, 25) < 0.3
                THEN seed.rnd(p_seed, d.k, d.day_no, 26) < 0.5 END
        ) || CASE WHEN d.phq THEN jsonb_build_object(
            'phq4_feeling_nervous', d.q1, 'phq4_stop_worrying', d.q2, 'phq4_little_interest', d.q3,
            'phq4_feeling_down', d.q4, 'phq4_score', d.q1 + d.q2 + d.q3 + d.q4, 'phq4_anxiety', d.q1 + d.q2,
            'phq4_depression', d.q3 + d.q4
        ) ELSE '{}'::jsonb END)
    FROM (
        SELECT
            s.*,
            CASE WHEN seed.rnd(p_seed, s.k, s.day_no, 12) < 0.1
                THEN greatest(1, least(cardinality(words), s.w1_raw + seed.pick(seed.rnd(p_seed, s.k, s.day_no, 11),
                    -6, 6)))
                ELSE s.w1_raw END AS w2,
            s.w1_raw AS w1,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 27), 0, cardinality(effects) - 1) AS fx,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 28), 0, cardinality(coping) - 1) AS cx,
            CASE
                WHEN seed.rnd(p_seed, s.k, s.day_no, 30) >= 0.8 THEN NULL
                WHEN s.r_med < 0.80 THEN 'yes'
                WHEN s.r_med < 0.87 THEN 'partial'
                WHEN s.r_med < 0.95 THEN 'no'
                ELSE 'not_applicable'
            END AS med,
            (s.day_no + seed.pick(seed.rnd(p_seed, s.k, 0, 31), 0, 6)) % 7 = 0 AS phq,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 32), 0, 3) AS q1,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 33), 0, 3) AS q2,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 34), 0, 3) AS q3,
            seed.pick(seed.rnd(p_seed, s.k, s.day_no, 35), 0, 3) AS q4
        FROM (
            SELECT
                u.k, u.user_id, u.tz, g.day_no, (now() AT TIME ZONE u.tz)::date - g.day_no AS local_date,
                seed.rnd(p_seed, u.k, g.day_no, 29) AS r_med,
                -- A personal baseline mood, a slow cycle and daily noise, as an index into the sorted words.
                greatest(1, least(cardinality(words), round(
                    8 + 30 * seed.rnd(p_seed, u.k, 0, 7)
                    + 6 * sin((g.day_no + 60 * seed.rnd(p_seed, u.k, 0, 8)) / 9.0)
                    + 10 * (seed.rnd(p_seed, u.k, g.day_no, 9) - 0.5)
                )::integer)) AS w1_raw
            FROM seed.users AS u
            CROSS JOIN LATERAL generate_series(u.days - 1, 0, -1) AS g (day_no)
            WHERE
                u.cohort = p_cohort AND u.k >= p_k_from AND u.k < p_k_to
                AND seed.rnd(p_seed, u.k, g.day_no, 10) < u.p_checkin
        ) AS s
    ) AS d
    ORDER BY d.k, d.local_date;
    GET DIAGNOSTICS n = ROW_COUNT;

    -- V2 events (as POST /api/v2/health/events would record them), on past days only.
    INSERT INTO seed.plan_events (k, user_id, ord, event_type, event_data, occurred_at, local_date)
    SELECT s.k, s.user_id, x.ord, x.event_type, x.event_data, (s.local_date + x.at) AT TIME ZONE s.tz, s.local_date
    FROM (
        SELECT u.k, u.user_id, u.tz, g.day_no, (now() AT TIME ZONE u.tz)::date - g.day_no AS local_date
        FROM seed.users AS u
        CROSS JOIN LATERAL generate_series(u.days - 1, 1, -1) AS g (day_no)
        WHERE u.cohort = p_cohort AND u.k >= p_k_from AND u.k < p_k_to
    ) AS s
    CROSS JOIN LATERAL (
        VALUES
        (1, 'sleep', TIME '07:00', CASE WHEN seed.rnd(p_seed, s.k, s.day_no, 40) < 0.5 THEN jsonb_build_object(
            'hours', round((5 + 4 * seed.rnd(p_seed, s.k, s.day_no, 41))::numeric, 1),
            'quality', seed.pick(seed.rnd(p_seed, s.k, s.day_no, 42), 1, 10)
        ) END),
        (2, 'vital', TIME '07:30', CASE WHEN seed.rnd(p_seed, s.k, s.day_no, 43) < 0.1 THEN jsonb_build_object(
            'kind', 'temperature',
            'value', round((36.1 + 1.2 * seed.rnd(p_seed, s.k, s.day_no, 44))::numeric, 1),
            'unit', 'C'
        ) END),
        (3, 'exercise', TIME '18:00', CASE WHEN seed.rnd(p_seed, s.k, s.day_no, 45) < 0.25 THEN jsonb_build_object(
            'activity', activities[seed.pick(seed.rnd(p_seed, s.k, s.day_no, 46), 1, cardinality(activities))],
            'minutes', seed.pick(seed.rnd(p_seed, s.k, s.day_no, 47), 10, 90),
            'intensity', intensities[seed.pick(seed.rnd(p_seed, s.k, s.day_no, 48), 1, cardinality(intensities))]
        ) END),
        (4, 'note', TIME '21:00', CASE WHEN seed.rnd(p_seed, s.k, s.day_no, 49) < 0.05 THEN jsonb_build_object(
            'text', notes[seed.pick(seed.rnd(p_seed, s.k, s.day_no, 50), 1, cardinality(notes))]
        ) END)
    ) AS x (ord, event_type, at, event_data)
    WHERE x.event_data IS NOT NULL
    ORDER BY s.k, s.local_date, x.ord;
    RETURN n;
END
$$;

-- Write the planned rows set-based: the check-ins' rows (daily_checkins), then their events (core.checkin_payloads'
-- split: mood always; medication, symptom, assessment when one of their registry fields is present), then the V2
-- events, then the rollups of their days. Returns the number of events written.
CREATE OR REPLACE FUNCTION seed.load_bulk()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    not_mood text[];
    not_med text[];
    not_symptom text[];
    not_assessment text[];
    med_keys text[];
    symptom_keys text[];
    assessment_keys text[];
    n bigint;
    m bigint;
BEGIN
    SELECT
        array_agg(f.field) FILTER (WHERE f.event_type <> 'mood'),
        array_agg(f.field) FILTER (WHERE f.event_type <> 'medication'),
        array_agg(f.field) FILTER (WHERE f.event_type <> 'symptom'),
        array_agg(f.field) FILTER (WHERE f.event_type <> 'assessment'),
        array_agg(f.field) FILTER (WHERE f.event_type = 'medication'),
        array_agg(f.field) FILTER (WHERE f.event_type = 'symptom'),
        array_agg(f.field) FILTER (WHERE f.event_type = 'assessment')
    INTO not_mood, not_med, not_symptom, not_assessment, med_keys, symptom_keys, assessment_keys
    FROM public.checkin_fields AS f;

    -- The check-ins' rows in their read model, as api.create_checkin writes them first (core.legacy_put of
    -- core.legacy_row): one INSERT. The change-log triggers do not fire (session_replication_role = replica), as
    -- they skip the V2 functions' writes.
    INSERT INTO public.daily_checkins
    SELECT r.*
    FROM seed.plan_checkins AS p
    CROSS JOIN LATERAL jsonb_populate_record(
        NULL::public.daily_checkins,
        core.legacy_row(p.checkin_id, p.user_id, p.local_date, 'standard', now(), now(), p.fields)
    ) AS r
    ORDER BY p.k, p.local_date;

    INSERT INTO public.health_events (
        user_id, event_type, event_subtype, event_data, occurred_at, local_date,
        action, source, source_version, correlation_id
    )
    SELECT p.user_id, x.event_type, x.event_subtype, x.event_data, p.occurred_at, p.local_date,
        'record', 'checkin_v1', 'v1-compat', p.checkin_id
    FROM seed.plan_checkins AS p
    CROSS JOIN LATERAL (
        VALUES
        (1, 'mood', 'daily_checkin', jsonb_build_object(
            'mood', p.fields -> 'mood_today',
            'confidence', p.fields -> 'confidence_today',
            'checkin_type', 'standard',
            'fields', p.fields - not_mood
        ) || CASE WHEN jsonb_typeof(p.fields -> 'anxiety_level') = 'number'
            THEN jsonb_build_object('anxiety', p.fields -> 'anxiety_level') ELSE '{}'::jsonb END
        || CASE WHEN jsonb_typeof(p.fields -> 'user_note') = 'string'
            THEN jsonb_build_object('note', p.fields -> 'user_note') ELSE '{}'::jsonb END),
        (2, 'medication', 'daily_checkin', CASE WHEN p.fields ?| med_keys THEN jsonb_build_object(
            'status', CASE coalesce(p.fields ->> 'medication_taken', 'not tracked')
                WHEN 'yes' THEN 'taken'
                WHEN 'no' THEN 'missed'
                WHEN 'partial' THEN 'partial'
                WHEN 'not_applicable' THEN 'not_applicable'
                ELSE 'not_tracked'
            END,
            'fields', p.fields - not_med
        ) || CASE WHEN jsonb_typeof(p.fields -> 'missed_doses') = 'number'
            THEN jsonb_build_object('missed_doses', p.fields -> 'missed_doses') ELSE '{}'::jsonb END END),
        (3, 'symptom', 'daily_checkin', CASE WHEN p.fields ?| symptom_keys THEN jsonb_build_object(
            'symptoms', coalesce(p.fields -> 'side_effects', '[]'::jsonb),
            'fields', p.fields - not_symptom
        ) END),
        (4, 'assessment', 'phq4', CASE WHEN p.fields ?| assessment_keys THEN jsonb_build_object(
            'instrument', 'PHQ-4',
            'fields', p.fields - not_assessment
        ) || CASE WHEN jsonb_typeof(p.fields -> 'phq4_score') = 'number'
            THEN jsonb_build_object('score', p.fields -> 'phq4_score') ELSE '{}'::jsonb END
        || CASE WHEN jsonb_typeof(p.fields -> 'phq4_anxiety') = 'number'
            THEN jsonb_build_object('anxiety', p.fields -> 'phq4_anxiety') ELSE '{}'::jsonb END
        || CASE WHEN jsonb_typeof(p.fields -> 'phq4_depression') = 'number'
            THEN jsonb_build_object('depression', p.fields -> 'phq4_depression') ELSE '{}'::jsonb END END)
    ) AS x (ord, event_type, event_subtype, event_data)
    WHERE x.event_data IS NOT NULL
    ORDER BY p.k, p.local_date, x.ord;
    GET DIAGNOSTICS n = ROW_COUNT;

    INSERT INTO public.health_events (user_id, event_type, event_data, occurred_at, local_date)
    SELECT e.user_id, e.event_type, e.event_data, e.occurred_at, e.local_date
    FROM seed.plan_events AS e
    ORDER BY e.k, e.local_date, e.ord;
    GET DIAGNOSTICS m = ROW_COUNT;

    -- The rollups of the chunk's days, which the writes keep (a trigger that session_replication_role = replica
    -- turns off here): computed from the events just written, by the same rule.
    PERFORM core.user_day_rollups_backfill(ARRAY(
        SELECT p.user_id FROM seed.plan_checkins AS p UNION SELECT e.user_id FROM seed.plan_events AS e
    ));
    RETURN n + m;
END
$$;

-- Write the planned rows through the real functions, as the users would: api.create_checkin per check-in
-- (fields + date_submitted), then api.create_event per V2 event. Returns the number of calls.
CREATE OR REPLACE FUNCTION seed.load_functions()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    p record;
    n bigint := 0;
BEGIN
    FOR p IN
        SELECT c.fields, c.local_date, u.email
        FROM seed.plan_checkins AS c JOIN seed.users AS u ON u.user_id = c.user_id
        ORDER BY c.k, c.local_date
    LOOP
        PERFORM set_config('request.jwt.claims', jsonb_build_object('email', p.email)::text, true);
        PERFORM api.create_checkin(p.fields || jsonb_build_object('date_submitted', p.local_date::text));
        n := n + 1;
    END LOOP;
    FOR p IN
        SELECT e.event_type, e.event_data, e.occurred_at, u.email
        FROM seed.plan_events AS e JOIN seed.users AS u ON u.user_id = e.user_id
        ORDER BY e.k, e.local_date, e.ord
    LOOP
        PERFORM set_config('request.jwt.claims', jsonb_build_object('email', p.email)::text, true);
        PERFORM api.create_event(jsonb_build_object(
            'event_type', p.event_type,
            'event_data', p.event_data,
            'occurred_at', to_char(p.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        ));
        n := n + 1;
    END LOOP;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN n;
END
$$;

-- Generate each user's daily insight of today (the first call of the day computes and stores it), as the
-- gateway would call api.daily_insight; returns how many were generated.
CREATE OR REPLACE FUNCTION seed.warm_daily_insights(p_cohort text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_email text;
    n integer := 0;
BEGIN
    FOR v_email IN SELECT u.email FROM seed.users AS u WHERE u.cohort = p_cohort ORDER BY u.k LOOP
        PERFORM set_config('request.jwt.claims', jsonb_build_object('email', v_email)::text, true);
        PERFORM api.daily_insight('{}'::jsonb);
        n := n + 1;
    END LOOP;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN n;
END
$$;
