-- The metrics kept at the cost of the writes: one row per user and local day of the event log, maintained by a
-- statement trigger on health_events in the same transaction as the events (docs/metrics.md, "Rollups"). Until
-- now every metrics read aggregated the user's raw events (user_daily_metrics_live), and a refresh of the
-- materialized views aggregated the whole log (minutes at 10 million events, growing with the log).
--
-- What a write costs: a statement of new 'record' events adds them to their days (one UPDATE per user-day, the
-- sums and counts added, the latest mood and medication kept when newer); a statement with a correction or a
-- retraction recomputes each day it touches (the day of the new event and the day of the event superseded) from
-- that day's live events. Both are per user-day, so a write costs the same with 30 days or 3 years of history.
--
-- Concurrency: a day's row is the lock. A delta is an UPDATE of the row (concurrent deltas add up in any order);
-- a recompute locks the row first and reads the day's events in a later statement, so it sees every event
-- committed before it got the lock, and a transaction still to commit applies its own change after it. A day
-- without a row yet is computed from its events and inserted with ON CONFLICT DO NOTHING; when another
-- transaction inserted it first, the write goes round again and adds to that row. Under REPEATABLE READ the
-- same steps raise a serialization failure instead of losing a concurrent write.
--
-- The trigger function and its two helpers are defined here with the trigger, like the other trigger functions
-- (0005, 0010): they run from the instant this migration commits, before the repeatable files are applied.
-- PL/pgSQL resolves names when a body runs, so they may call core.mood_score (defined by a repeatable file
-- that every deployed database has). A change to them is a new migration.

CREATE TABLE public.user_day_rollups (
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    date date NOT NULL,
    event_count bigint NOT NULL DEFAULT 0,
    event_counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    latest_mood text,
    mood_score numeric,
    latest_mood_at timestamptz,
    latest_mood_position bigint,
    confidence_sum numeric NOT NULL DEFAULT 0,
    confidence_n bigint NOT NULL DEFAULT 0,
    anxiety_sum numeric NOT NULL DEFAULT 0,
    anxiety_n bigint NOT NULL DEFAULT 0,
    checkin_moods bigint NOT NULL DEFAULT 0,
    mood_entries bigint NOT NULL DEFAULT 0,
    medication_entries bigint NOT NULL DEFAULT 0,
    medications_taken bigint NOT NULL DEFAULT 0,
    medications_missed bigint NOT NULL DEFAULT 0,
    medications_partial bigint NOT NULL DEFAULT 0,
    latest_medication text,
    latest_medication_at timestamptz,
    latest_medication_position bigint,
    symptom_entries bigint NOT NULL DEFAULT 0,
    symptoms_reported bigint NOT NULL DEFAULT 0,
    CONSTRAINT user_day_rollups_pkey PRIMARY KEY (user_id, date),
    CONSTRAINT user_day_rollups_event_counts_object CHECK (jsonb_typeof(event_counts) = 'object')
);

COMMENT ON TABLE public.user_day_rollups IS
'Per user and local day, the live events of the log rolled up (docs/metrics.md, "Rollups"): maintained by the '
'statement trigger health_events_user_day_rollups in the same transaction as the events (corrections, retractions '
'and imported V1-mode writes included), so never stale. View user_day_rollups_from_log recomputes every row from '
'the log (the definition; a test proves the two equal). A day whose events were all retracted keeps a row with '
'event_count 0. user_daily_metrics_live presents the rows with events as the daily metrics.';
COMMENT ON COLUMN public.user_day_rollups.event_counts IS
'Live events of the day per event_type, e.g. {"mood": 1, "sleep": 1}; event_count is their sum.';
COMMENT ON COLUMN public.user_day_rollups.latest_mood IS
'The mood (a string) of the day''s latest live mood event by (occurred_at, position); latest_mood_at and '
'latest_mood_position are that event''s. mood_score = core.mood_score(latest_mood) when the row last changed.';
COMMENT ON COLUMN public.user_day_rollups.confidence_sum IS
'Sum and count (confidence_n) of the numeric confidence of the live mood events; anxiety_sum, anxiety_n likewise.';
COMMENT ON COLUMN public.user_day_rollups.checkin_moods IS 'Live mood events of subtype daily_checkin.';
COMMENT ON COLUMN public.user_day_rollups.latest_medication IS
'The day''s latest live medication answer: the V1 value (fields.medication_taken) of a check-in''s event, else '
'its status; latest_medication_at and latest_medication_position are that event''s.';
COMMENT ON COLUMN public.user_day_rollups.medications_missed IS 'Live medication events with status missed or skipped.';
COMMENT ON COLUMN public.user_day_rollups.symptoms_reported IS 'Items of the symptoms arrays of live symptom events.';

-- Row-level security as every per-user table: the user's own rows for the identity-carrying roles, analysts'
-- reads recorded (0030). The trigger runs as whoever writes the events: novara_definer (the API, under the
-- caller's claims) or the owner (imports of every user's V1-mode writes, backfills), whose policy below admits
-- any user's row, as the owner's logger policy of legacy_checkin_changes does.
ALTER TABLE public.user_day_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_day_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY user_day_rollups_owner ON public.user_day_rollups
TO novara_api, novara_definer
USING (user_id = (SELECT core.current_user_id()))
WITH CHECK (user_id = (SELECT core.current_user_id()));
CREATE POLICY user_day_rollups_analyst_read ON public.user_day_rollups
FOR SELECT TO novara_analyst USING (core.note_access('public.user_day_rollups', user_id));
CREATE POLICY user_day_rollups_maintainer ON public.user_day_rollups
TO current_user USING (TRUE) WITH CHECK (TRUE);

GRANT SELECT ON public.user_day_rollups TO novara_api, novara_analyst;
-- DELETE: a recompute (core.user_day_rollup_refresh) replaces the day's row under its lock.
GRANT SELECT, INSERT, UPDATE, DELETE ON public.user_day_rollups TO novara_definer;

-- One day computed from its live events (the definition of a row; user_day_rollups_from_log applies it to every
-- day of the log). Always one row: a day without live events has event_count 0.
CREATE FUNCTION core.user_day_rollup(p_user_id uuid, p_date date)
RETURNS public.user_day_rollups
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    r public.user_day_rollups;
BEGIN
    WITH live AS MATERIALIZED (
        SELECT e.event_type, e.event_subtype, e.event_data, e.occurred_at, e.position
        FROM public.health_events AS e
        WHERE
            e.user_id = p_user_id AND e.local_date = p_date AND e.action <> 'retract'
            AND NOT EXISTS (
                SELECT 1 FROM public.health_events AS s
                WHERE s.user_id = e.user_id AND s.related_event_id = e.id AND s.action <> 'record'
            )
    ),

    mood AS (
        SELECT l.event_data ->> 'mood' AS mood, l.occurred_at, l.position
        FROM live AS l
        WHERE l.event_type = 'mood' AND jsonb_typeof(l.event_data -> 'mood') = 'string'
        ORDER BY l.occurred_at DESC, l.position DESC
        LIMIT 1
    ),

    medication AS (
        SELECT
            coalesce(l.event_data -> 'fields' ->> 'medication_taken', l.event_data ->> 'status') AS answer,
            l.occurred_at,
            l.position
        FROM live AS l
        WHERE l.event_type = 'medication'
        ORDER BY l.occurred_at DESC, l.position DESC
        LIMIT 1
    )

    SELECT
        p_user_id,
        p_date,
        (SELECT count(*) FROM live),
        coalesce(
            (SELECT jsonb_object_agg(t.event_type, t.n) FROM (
                SELECT l.event_type, count(*) AS n FROM live AS l GROUP BY l.event_type
            ) AS t),
            '{}'::jsonb
        ),
        m.mood,
        core.mood_score(m.mood),
        m.occurred_at,
        m.position,
        a.confidence_sum,
        a.confidence_n,
        a.anxiety_sum,
        a.anxiety_n,
        a.checkin_moods,
        a.mood_entries,
        a.medication_entries,
        a.medications_taken,
        a.medications_missed,
        a.medications_partial,
        md.answer,
        md.occurred_at,
        md.position,
        a.symptom_entries,
        a.symptoms_reported
    INTO r
    FROM (
        SELECT
            coalesce(sum((l.event_data ->> 'confidence')::numeric) FILTER (
                WHERE l.event_type = 'mood' AND jsonb_typeof(l.event_data -> 'confidence') = 'number'
            ), 0) AS confidence_sum,
            count(*) FILTER (
                WHERE l.event_type = 'mood' AND jsonb_typeof(l.event_data -> 'confidence') = 'number'
            ) AS confidence_n,
            coalesce(sum((l.event_data ->> 'anxiety')::numeric) FILTER (
                WHERE l.event_type = 'mood' AND jsonb_typeof(l.event_data -> 'anxiety') = 'number'
            ), 0) AS anxiety_sum,
            count(*) FILTER (
                WHERE l.event_type = 'mood' AND jsonb_typeof(l.event_data -> 'anxiety') = 'number'
            ) AS anxiety_n,
            count(*) FILTER (WHERE l.event_type = 'mood' AND l.event_subtype = 'daily_checkin') AS checkin_moods,
            count(*) FILTER (WHERE l.event_type = 'mood') AS mood_entries,
            count(*) FILTER (WHERE l.event_type = 'medication') AS medication_entries,
            count(*) FILTER (
                WHERE l.event_type = 'medication' AND l.event_data ->> 'status' = 'taken'
            ) AS medications_taken,
            count(*) FILTER (
                WHERE l.event_type = 'medication' AND l.event_data ->> 'status' IN ('missed', 'skipped')
            ) AS medications_missed,
            count(*) FILTER (
                WHERE l.event_type = 'medication' AND l.event_data ->> 'status' = 'partial'
            ) AS medications_partial,
            count(*) FILTER (WHERE l.event_type = 'symptom') AS symptom_entries,
            coalesce(sum(jsonb_array_length(l.event_data -> 'symptoms')) FILTER (
                WHERE l.event_type = 'symptom' AND jsonb_typeof(l.event_data -> 'symptoms') = 'array'
            ), 0) AS symptoms_reported
        FROM live AS l
    ) AS a
    LEFT JOIN mood AS m ON TRUE
    LEFT JOIN medication AS md ON TRUE;
    RETURN r;
END
$$;

COMMENT ON FUNCTION core.user_day_rollup(uuid, date) IS
'The rollup row of user p_user_id''s local day p_date computed from that day''s live events (not retracted, not '
'superseded), read through the indexes (user_id, local_date) and (related_event_id): the definition of a row of '
'user_day_rollups. Always one row (event_count 0 when the day has no live event). Reads under the caller''s '
'row-level security.';

-- Recompute one day under its row lock (a correction or retraction touched it; a repair).
CREATE FUNCTION core.user_day_rollup_refresh(p_user_id uuid, p_date date)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    LOOP
        DELETE FROM public.user_day_rollups AS r WHERE r.user_id = p_user_id AND r.date = p_date;
        INSERT INTO public.user_day_rollups
        SELECT * FROM core.user_day_rollup(p_user_id, p_date)
        ON CONFLICT DO NOTHING;
        -- Skipped only when another transaction inserted the day after the DELETE (computed without this
        -- transaction's events): go round, delete that row under its lock and compute again.
        EXIT WHEN FOUND;
    END LOOP;
END
$$;

COMMENT ON FUNCTION core.user_day_rollup_refresh(uuid, date) IS
'Recompute the rollup of user p_user_id''s local day p_date from its live events (core.user_day_rollup) under the '
'row''s lock: locked first, read after, so a write committed before the lock is counted and one committing after '
'adds to the new row. Inserts the row when missing (again, when a concurrent write inserted it first). Used by the '
'trigger for corrections and retractions; a DBA may call it to repair a day.';

-- The trigger: every statement that appends events.
CREATE FUNCTION core.user_day_rollups_maintain()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    d record;
BEGIN
    -- Each user-day the statement touched, in key order (two writers touching the same days lock them in the
    -- same order): recomputed when a correction or retraction touched it, else its new events added.
    FOR d IN
        WITH superseding AS (
            SELECT a.user_id, a.local_date FROM added AS a WHERE a.action <> 'record'
            UNION
            SELECT s.user_id, s.local_date
            FROM added AS a
            INNER JOIN public.health_events AS s ON s.user_id = a.user_id AND s.id = a.related_event_id
            WHERE a.action <> 'record'
        )

        SELECT k.user_id, k.local_date, bool_or(k.recompute) AS recompute
        FROM (
            SELECT a.user_id, a.local_date, FALSE AS recompute FROM added AS a
            UNION ALL
            SELECT s.user_id, s.local_date, TRUE FROM superseding AS s
        ) AS k
        GROUP BY k.user_id, k.local_date
        ORDER BY k.user_id, k.local_date
    LOOP
        IF d.recompute THEN
            PERFORM core.user_day_rollup_refresh(d.user_id, d.local_date);
            CONTINUE;
        END IF;
        LOOP
            UPDATE public.user_day_rollups AS r SET
                event_count = r.event_count + x.event_count,
                event_counts = (
                    SELECT jsonb_object_agg(c.key, c.n)
                    FROM (
                        SELECT u.key, sum(u.value::bigint) AS n
                        FROM (
                            SELECT o.key, o.value FROM jsonb_each_text(r.event_counts) AS o
                            UNION ALL
                            SELECT n.key, n.value FROM jsonb_each_text(x.event_counts) AS n
                        ) AS u
                        GROUP BY u.key
                    ) AS c
                ),
                -- Compared with r, the row as updated: a concurrent writer's newer event is never overwritten.
                (latest_mood, mood_score, latest_mood_at, latest_mood_position) = (
                    SELECT
                        CASE WHEN n.newer THEN x.latest_mood ELSE r.latest_mood END,
                        CASE WHEN n.newer THEN core.mood_score(x.latest_mood) ELSE r.mood_score END,
                        CASE WHEN n.newer THEN x.latest_mood_at ELSE r.latest_mood_at END,
                        CASE WHEN n.newer THEN x.latest_mood_position ELSE r.latest_mood_position END
                    FROM (
                        SELECT x.latest_mood_at IS NOT NULL AND (
                            r.latest_mood_at IS NULL
                            OR (x.latest_mood_at, x.latest_mood_position) > (r.latest_mood_at, r.latest_mood_position)
                        ) AS newer
                    ) AS n
                ),
                confidence_sum = r.confidence_sum + x.confidence_sum,
                confidence_n = r.confidence_n + x.confidence_n,
                anxiety_sum = r.anxiety_sum + x.anxiety_sum,
                anxiety_n = r.anxiety_n + x.anxiety_n,
                checkin_moods = r.checkin_moods + x.checkin_moods,
                mood_entries = r.mood_entries + x.mood_entries,
                medication_entries = r.medication_entries + x.medication_entries,
                medications_taken = r.medications_taken + x.medications_taken,
                medications_missed = r.medications_missed + x.medications_missed,
                medications_partial = r.medications_partial + x.medications_partial,
                (latest_medication, latest_medication_at, latest_medication_position) = (
                    SELECT
                        CASE WHEN n.newer THEN x.latest_medication ELSE r.latest_medication END,
                        CASE WHEN n.newer THEN x.latest_medication_at ELSE r.latest_medication_at END,
                        CASE WHEN n.newer THEN x.latest_medication_position ELSE r.latest_medication_position END
                    FROM (
                        SELECT x.latest_medication_at IS NOT NULL AND (
                            r.latest_medication_at IS NULL
                            OR (x.latest_medication_at, x.latest_medication_position)
                            > (r.latest_medication_at, r.latest_medication_position)
                        ) AS newer
                    ) AS n
                ),
                symptom_entries = r.symptom_entries + x.symptom_entries,
                symptoms_reported = r.symptoms_reported + x.symptoms_reported
            FROM (
                    SELECT
                        count(*) AS event_count,
                        (SELECT jsonb_object_agg(t.event_type, t.n) FROM (
                            SELECT b.event_type, count(*) AS n FROM added AS b
                            WHERE b.user_id = d.user_id AND b.local_date = d.local_date
                            GROUP BY b.event_type
                        ) AS t) AS event_counts,
                        (array_agg(a.event_data ->> 'mood' ORDER BY a.occurred_at DESC, a.position DESC) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'mood') = 'string'
                        ))[1] AS latest_mood,
                        (array_agg(a.occurred_at ORDER BY a.occurred_at DESC, a.position DESC) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'mood') = 'string'
                        ))[1] AS latest_mood_at,
                        (array_agg(a.position ORDER BY a.occurred_at DESC, a.position DESC) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'mood') = 'string'
                        ))[1] AS latest_mood_position,
                        coalesce(sum((a.event_data ->> 'confidence')::numeric) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'confidence') = 'number'
                        ), 0) AS confidence_sum,
                        count(*) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'confidence') = 'number'
                        ) AS confidence_n,
                        coalesce(sum((a.event_data ->> 'anxiety')::numeric) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'anxiety') = 'number'
                        ), 0) AS anxiety_sum,
                        count(*) FILTER (
                            WHERE a.event_type = 'mood' AND jsonb_typeof(a.event_data -> 'anxiety') = 'number'
                        ) AS anxiety_n,
                        count(*) FILTER (
                            WHERE a.event_type = 'mood' AND a.event_subtype = 'daily_checkin'
                        ) AS checkin_moods,
                        count(*) FILTER (WHERE a.event_type = 'mood') AS mood_entries,
                        count(*) FILTER (WHERE a.event_type = 'medication') AS medication_entries,
                        count(*) FILTER (
                            WHERE a.event_type = 'medication' AND a.event_data ->> 'status' = 'taken'
                        ) AS medications_taken,
                        count(*) FILTER (
                            WHERE a.event_type = 'medication' AND a.event_data ->> 'status' IN ('missed', 'skipped')
                        ) AS medications_missed,
                        count(*) FILTER (
                            WHERE a.event_type = 'medication' AND a.event_data ->> 'status' = 'partial'
                        ) AS medications_partial,
                        (array_agg(
                            coalesce(a.event_data -> 'fields' ->> 'medication_taken', a.event_data ->> 'status')
                            ORDER BY a.occurred_at DESC, a.position DESC
                        ) FILTER (WHERE a.event_type = 'medication'))[1] AS latest_medication,
                        (array_agg(a.occurred_at ORDER BY a.occurred_at DESC, a.position DESC) FILTER (
                            WHERE a.event_type = 'medication'
                        ))[1] AS latest_medication_at,
                        (array_agg(a.position ORDER BY a.occurred_at DESC, a.position DESC) FILTER (
                            WHERE a.event_type = 'medication'
                        ))[1] AS latest_medication_position,
                        count(*) FILTER (WHERE a.event_type = 'symptom') AS symptom_entries,
                        coalesce(sum(jsonb_array_length(a.event_data -> 'symptoms')) FILTER (
                            WHERE a.event_type = 'symptom' AND jsonb_typeof(a.event_data -> 'symptoms') = 'array'
                        ), 0) AS symptoms_reported
                    FROM added AS a
                    WHERE a.user_id = d.user_id AND a.local_date = d.local_date
            ) AS x
            WHERE r.user_id = d.user_id AND r.date = d.local_date;
            EXIT WHEN FOUND;
            -- No row yet: the day computed from its events (the new ones included); when another transaction
            -- inserted the row meanwhile, go round and add to it.
            INSERT INTO public.user_day_rollups
            SELECT * FROM core.user_day_rollup(d.user_id, d.local_date)
            ON CONFLICT DO NOTHING;
            EXIT WHEN FOUND;
        END LOOP;
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION core.user_day_rollups_maintain() IS
'Trigger (AFTER INSERT on health_events, per statement, transition table "added"): keeps user_day_rollups for '
'every user-day the statement touched, in key order: a day a correction or retraction touched (its own and the '
'superseded event''s) is recomputed under its row lock (core.user_day_rollup_refresh); any other day gets its new '
'events added to its row in one UPDATE (sums and counts added, latest mood and medication kept when newer), or '
'computed from its events when it has no row yet. Runs with the writer''s privileges.';

CREATE TRIGGER health_events_user_day_rollups
AFTER INSERT ON public.health_events
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION core.user_day_rollups_maintain();
