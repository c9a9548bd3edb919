-- The backfill (docs/v1-v2-sync.md): legacy check-ins that have no live V2 check-in yet are imported into the
-- event log, set-based, user by user, keeping each legacy id as the check-in's id; V2 check-ins written
-- before migration 0010 (no dual write then) get their legacy row. Resumable: each call does about p_batch
-- rows and returns how many; 0 means nothing is left. db/views/backfill_legacy_checkins.sql calls it until 0.

CREATE OR REPLACE FUNCTION core.backfill_legacy_checkins(p_batch integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    prior_claims text := coalesce(current_setting('request.jwt.claims', TRUE), '');
    batch integer := greatest(coalesce(p_batch, 10000), 1);
    total integer := 0;
    uids uuid[];
    uid uuid;
    tz text;
    n integer;
    blocked uuid[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT x.user_id), '{}') INTO uids
    FROM (
        SELECT d.user_id
        FROM public.daily_checkins AS d
        WHERE NOT EXISTS (SELECT 1 FROM public.live_checkins AS c WHERE c.id = d.id)
        UNION ALL
        SELECT c.user_id
        FROM public.live_checkins AS c
        WHERE NOT EXISTS (SELECT 1 FROM public.daily_checkins AS d WHERE d.id = c.id)
    ) AS x;

    FOREACH uid IN ARRAY uids LOOP
        EXIT WHEN total >= batch;
        -- Row-level security is forced: name the user whose rows are written.
        PERFORM set_config('request.jwt.claims', jsonb_build_object('id', uid)::text, TRUE);
        tz := core.user_timezone(uid);

        -- 1. V2 check-ins without a legacy row get one (not logged: the log has them). A date held by a legacy
        --    row is left alone: importing that row in step 2 retracts the V2 check-in (legacy rows win).
        PERFORM set_config('novara.sync_source', 'v2', TRUE);
        INSERT INTO public.daily_checkins (
            id, user_id, date_submitted, checkin_type, created_at, updated_at, fields, extra_fields,
            mood_today, confidence_today, medication_taken, user_note, primary_concern_today, anxiety_level,
            side_effects, missed_doses, injection_confidence, appointment_within_3_days, appointment_anxiety,
            coping_strategies_used, partner_involved_today, wish_knew_more_about, phq4_feeling_nervous,
            phq4_stop_worrying, phq4_little_interest, phq4_feeling_down, phq4_score, phq4_anxiety, phq4_depression
        )
        SELECT
            v.id, v.user_id, v.date_submitted, v.checkin_type, v.created_at, v.updated_at, v.fields,
            c.extra_fields, c.mood_today, c.confidence_today, c.medication_taken, c.user_note,
            c.primary_concern_today, c.anxiety_level, c.side_effects, c.missed_doses, c.injection_confidence,
            c.appointment_within_3_days, c.appointment_anxiety, c.coping_strategies_used, c.partner_involved_today,
            c.wish_knew_more_about, c.phq4_feeling_nervous, c.phq4_stop_worrying, c.phq4_little_interest,
            c.phq4_feeling_down, c.phq4_score, c.phq4_anxiety, c.phq4_depression
        FROM public.daily_checkins_legacy AS v
        CROSS JOIN LATERAL core.legacy_columns(v.fields) AS c
        WHERE v.user_id = uid AND NOT EXISTS (SELECT 1 FROM public.daily_checkins AS d WHERE d.id = v.id)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('novara.sync_source', '', TRUE);
        total := total + n;

        -- 2. Legacy rows without a live check-in: live_checkins row + record events, in one statement (one
        --    snapshot), which also consumes the change-log entries of the rows it imported (their state is the
        --    one it read). Rows whose date a live check-in holds are reconciled one by one.
        LOOP
            EXIT WHEN total >= batch;
            WITH src AS MATERIALIZED (
                SELECT
                    d.id, d.user_id, d.date_submitted, d.checkin_type, d.created_at, d.updated_at,
                    core.legacy_fields(d) AS fields
                FROM public.daily_checkins AS d
                WHERE d.user_id = uid AND NOT EXISTS (SELECT 1 FROM public.live_checkins AS c WHERE c.id = d.id)
                ORDER BY d.date_submitted
                LIMIT batch - total
            ),

            ins AS (
                INSERT INTO public.live_checkins (id, user_id, local_date, checkin_type, created_at, updated_at)
                SELECT s.id, s.user_id, s.date_submitted, s.checkin_type, s.created_at, s.updated_at
                FROM src AS s
                ON CONFLICT DO NOTHING
                RETURNING id
            ),

            ev AS (
                INSERT INTO public.health_events (
                    user_id, event_type, event_subtype, event_data, occurred_at, local_date,
                    action, source, source_version, correlation_id
                )
                SELECT
                    s.user_id, p.event_type, p.event_subtype, p.event_data,
                    CASE
                        WHEN s.date_submitted = (s.created_at AT TIME ZONE tz)::date THEN s.created_at
                        ELSE (s.date_submitted + TIME '12:00') AT TIME ZONE tz
                    END,
                    s.date_submitted, 'record', 'checkin_v1', 'v1-compat', s.id
                FROM src AS s
                INNER JOIN ins AS i ON s.id = i.id
                CROSS JOIN LATERAL core.checkin_payloads(s.fields, s.checkin_type) AS p
                RETURNING 1
            ),

            consumed AS (
                DELETE FROM public.legacy_checkin_changes AS l
                USING ins AS i
                WHERE l.user_id = uid AND l.checkin_id = i.id
                RETURNING 1
            )

            SELECT count(i.id)::integer, coalesce(array_agg(s.id) FILTER (WHERE i.id IS NULL), '{}')
            INTO n, blocked
            FROM src AS s
            LEFT JOIN ins AS i ON s.id = i.id;

            IF cardinality(blocked) > 0 THEN
                PERFORM core.legacy_sync_lock(uid);
                PERFORM core.legacy_reconcile(uid, blocked);
            END IF;
            total := total + n + cardinality(blocked);
            EXIT WHEN n + cardinality(blocked) = 0;
        END LOOP;
    END LOOP;

    PERFORM set_config('request.jwt.claims', prior_claims, TRUE);
    RETURN total;
END
$$;

COMMENT ON FUNCTION core.backfill_legacy_checkins(integer) IS
'Import daily_checkins rows that have no live V2 check-in into the event log (record events, correlation_id = '
'the legacy id, every column mapped, unknown columns as extras) and give V2 check-ins without a legacy row '
'one. About p_batch rows per call, idempotent; returns how many it wrote (0: done).';
