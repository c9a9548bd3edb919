-- The backfill (docs/v1-v2-sync.md): rows of daily_checkins whose check-in has no events in the log (legacy rows
-- loaded without logging, e.g. before migration 0010, or any write not imported yet) are imported into the event
-- log, user by user, keeping each row's id as the check-in's id. Resumable: each call does about p_batch rows and
-- returns how many; 0 means nothing is left. db/backfills/legacy_checkins.sql calls it until 0.
--
-- The import is core.checkin_converge's rule, set-based for speed: a check-in without events converges by recording
-- each payload (core.checkin_payloads) at core.checkin_occurred_at of its created_at, which one statement does for a
-- whole batch. db/tests/test_sync.sql checks both give one result. Rows whose check-in has events already are the
-- change log's business (core.sync_legacy_checkins).

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
BEGIN
    SELECT coalesce(array_agg(DISTINCT d.user_id), '{}') INTO uids
    FROM public.daily_checkins AS d
    WHERE NOT EXISTS (
        SELECT 1 FROM public.health_events AS e WHERE e.correlation_id = d.id AND e.source = 'checkin_v1'
    );

    FOREACH uid IN ARRAY uids LOOP
        EXIT WHEN total >= batch;
        -- Row-level security is forced: name the user whose rows are written. The user's sync lock keeps a
        -- concurrent import of the same rows (a V2 request of this user) from recording them twice.
        PERFORM set_config('request.jwt.claims', jsonb_build_object('id', uid)::text, TRUE);
        PERFORM core.legacy_sync_lock(uid);

        -- The record events (what core.checkin_converge appends for a check-in without events) of a batch of rows,
        -- in one statement (one snapshot), which also consumes the change-log entries of the rows it imported (their
        -- state is the one it read).
        LOOP
            EXIT WHEN total >= batch;
            -- (A probe of the events' correlation index per row, LATERAL ... LIMIT 1: never a scan of the whole log
            -- per user, whatever the statistics of a log the backfill itself is filling say.)
            WITH src AS MATERIALIZED (
                SELECT
                    d.id, d.user_id, d.date_submitted, d.checkin_type, d.created_at,
                    core.legacy_fields(d) AS fields
                FROM public.daily_checkins AS d
                LEFT JOIN LATERAL (
                    SELECT TRUE AS found
                    FROM public.health_events AS e
                    WHERE e.correlation_id = d.id AND e.source = 'checkin_v1'
                    LIMIT 1
                ) AS h ON TRUE
                WHERE d.user_id = uid AND h.found IS NULL
                ORDER BY d.date_submitted
                LIMIT batch - total
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
                CROSS JOIN LATERAL core.checkin_payloads(s.fields, s.checkin_type) AS p
                RETURNING 1
            ),

            consumed AS (
                DELETE FROM public.legacy_checkin_changes AS l
                WHERE l.user_id = uid AND l.checkin_id = ANY (ARRAY(SELECT s.id FROM src AS s))
                RETURNING 1
            )

            SELECT count(*)::integer INTO n FROM src;
            total := total + n;
            EXIT WHEN n = 0;
        END LOOP;
    END LOOP;

    PERFORM set_config('request.jwt.claims', prior_claims, TRUE);
    RETURN total;
END
$$;

COMMENT ON FUNCTION core.backfill_legacy_checkins(integer) IS
'Import daily_checkins rows whose check-in has no event yet into the event log (record events, correlation_id = '
'the row''s id, every column mapped, unknown columns as extras), set-based, consuming their change-log entries. '
'About p_batch rows per call, idempotent; returns how many it imported (0: done).';
