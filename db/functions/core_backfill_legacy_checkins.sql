-- The backfill (docs/v1-v2-sync.md): legacy check-ins that have no live V2 check-in yet are imported into the
-- event log, user by user, keeping each legacy id as the check-in's id; V2 check-ins written before migration
-- 0010 (no dual write then) get their legacy row (core.legacy_put). Resumable: each call does about p_batch rows
-- and returns how many; 0 means nothing is left. db/backfills/legacy_checkins.sql calls it until 0.
--
-- The import is core.checkin_converge's rule, set-based for speed: a check-in without events converges by
-- recording each payload (core.checkin_payloads) at core.checkin_occurred_at of its created_at, which one
-- statement does for a whole batch; a row that cannot be imported so (its date is held) goes through
-- core.legacy_reconcile, i.e. core.checkin_converge itself. db/tests/test_sync.sql checks both give one result.

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

        -- 1. V2 check-ins without a legacy row get one (not logged: the log has them). A date held by a legacy
        --    row is left alone: importing that row in step 2 retracts the V2 check-in (legacy rows win).
        SELECT count(*) FILTER (
            WHERE core.legacy_put(v.id, v.user_id, v.date_submitted, v.checkin_type, v.created_at, v.updated_at,
                v.fields, TRUE)
        )::integer INTO n
        FROM public.daily_checkins_legacy AS v
        WHERE v.user_id = uid AND NOT EXISTS (SELECT 1 FROM public.daily_checkins AS d WHERE d.id = v.id);
        total := total + n;

        -- 2. Legacy rows without a live check-in: live_checkins row + record events (what core.checkin_converge
        --    appends for a check-in without events), in one statement (one snapshot), which also consumes the
        --    change-log entries of the rows it imported (their state is the one it read). Rows whose date a live
        --    check-in holds are reconciled (core.legacy_reconcile).
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
                    core.checkin_occurred_at(s.user_id, s.date_submitted, s.created_at),
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
