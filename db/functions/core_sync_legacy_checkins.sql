-- Importing writes to the legacy table into the event log (docs/v1-v2-sync.md). public.daily_checkins is
-- what V1 mode writes; every write that did not come from the V2 path is in public.legacy_checkin_changes.
-- core.sync_legacy_checkins applies those entries: for each check-in they name, the event log is brought to
-- the legacy row's CURRENT state (record, correct or retract events; the live_checkins row), so applying an
-- entry twice, or an old entry after a newer one, changes nothing. Consumed entries are deleted in the same
-- transaction. Every V2 check-in function and V2 read calls it first for the caller.

-- Bring the events of check-in p_id to the given legacy state (fields, type, date). TRUE when it appended.
CREATE OR REPLACE FUNCTION core.legacy_apply_events(
    p_user_id uuid,
    p_id uuid,
    p_fields jsonb,
    p_checkin_type text,
    p_date date,
    p_created_at timestamptz,
    p_updated_at timestamptz
)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    types text[] := '{}';
    v_at timestamptz;
    changed boolean := FALSE;
    p record;
    ev record;
BEGIN
    -- occurred_at of new events: the group's (the mood event's) when it stays on its date, else from the row.
    SELECT CASE WHEN e.local_date = p_date THEN e.occurred_at END INTO v_at
    FROM public.health_events_live AS e
    WHERE e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1' AND e.event_type = 'mood'
    ORDER BY e.position DESC
    LIMIT 1;
    IF NOT FOUND THEN
        v_at := core.checkin_occurred_at(p_user_id, p_date, p_created_at);
    ELSIF v_at IS NULL THEN
        v_at := core.checkin_occurred_at(p_user_id, p_date, p_updated_at);
    END IF;

    -- Legacy rows are imported as they are: their answers are not re-validated (the row is the truth).
    FOR p IN SELECT * FROM core.checkin_payloads(p_fields, coalesce(p_checkin_type, 'standard')) LOOP
        types := types || p.event_type;
        SELECT e.id, e.event_data, e.occurred_at, e.local_date INTO ev
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type = p.event_type
        ORDER BY e.position DESC
        LIMIT 1;
        IF NOT FOUND THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'record', p.event_type, p.event_subtype, p.event_data, v_at,
                p_date);
            changed := TRUE;
        ELSIF ev.local_date <> p_date OR ev.event_data IS DISTINCT FROM p.event_data THEN
            PERFORM core.checkin_append(p_user_id, p_id, 'correct', p.event_type, p.event_subtype, p.event_data,
                CASE WHEN ev.local_date = p_date THEN ev.occurred_at ELSE v_at END, p_date, ev.id);
            changed := TRUE;
        END IF;
    END LOOP;

    -- A group the row no longer has (e.g. its columns were cleared by hand) is retracted.
    FOR ev IN
        SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
        FROM public.health_events_live AS e
        WHERE
            e.correlation_id = p_id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
            AND e.event_type <> ALL (types)
        ORDER BY e.position
    LOOP
        PERFORM core.checkin_append(p_user_id, p_id, 'retract', ev.event_type, ev.event_subtype, '{}'::jsonb,
            ev.occurred_at, ev.local_date, ev.id);
        changed := TRUE;
    END LOOP;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION core.legacy_apply_events(uuid, uuid, jsonb, text, date, timestamptz, timestamptz) IS
'Make check-in p_id''s live events equal to the payloads of a legacy row (core.checkin_payloads of its fields '
'and type on p_date): record missing groups, correct changed ones, retract dropped ones. TRUE when it appended.';

-- Bring the V2 state (live_checkins + events) of the user's check-ins p_ids to their legacy rows' current
-- state. A live check-in holding a date one of them takes in the legacy table is stale too and joins the set
-- (so moves, swaps and delete-then-reuse of a date never collide). Returns how many check-ins changed.
CREATE OR REPLACE FUNCTION core.legacy_reconcile(p_user_id uuid, p_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    work uuid[] := coalesce(p_ids, '{}');
    more uuid[];
    targets public.daily_checkins[];
    d public.daily_checkins;
    cur record;
    ev record;
    n integer := 0;
BEGIN
    -- The legacy rows and the live check-ins blocking their dates, read together (one snapshot), until the
    -- set is closed.
    LOOP
        SELECT
            (
                SELECT coalesce(array_agg(t), '{}')
                FROM public.daily_checkins AS t
                WHERE t.user_id = p_user_id AND t.id = ANY (work)
            ),
            (
                SELECT coalesce(array_agg(DISTINCT c.id), '{}')
                FROM public.live_checkins AS c
                INNER JOIN public.daily_checkins AS t ON t.user_id = c.user_id AND t.date_submitted = c.local_date
                WHERE c.user_id = p_user_id AND t.id = ANY (work) AND c.id <> ALL (work)
            )
        INTO targets, more;
        EXIT WHEN cardinality(more) = 0;
        work := work || more;
    END LOOP;

    -- Live check-ins that are gone from the legacy table are retracted; moved ones leave live_checkins for a
    -- moment (re-inserted below on their new date).
    FOR cur IN
        SELECT c.id, c.local_date, t.id AS target_id, t.date_submitted AS target_date
        FROM public.live_checkins AS c
        LEFT JOIN unnest(targets) AS t ON t.id = c.id
        WHERE c.user_id = p_user_id AND c.id = ANY (work)
        ORDER BY c.id
        FOR UPDATE OF c
    LOOP
        IF cur.target_id IS NULL THEN
            DELETE FROM public.live_checkins AS c WHERE c.id = cur.id;
            FOR ev IN
                SELECT e.id, e.event_type, e.event_subtype, e.occurred_at, e.local_date
                FROM public.health_events_live AS e
                WHERE e.correlation_id = cur.id AND e.user_id = p_user_id AND e.source = 'checkin_v1'
                ORDER BY e.position
            LOOP
                PERFORM core.checkin_append(p_user_id, cur.id, 'retract', ev.event_type, ev.event_subtype,
                    '{}'::jsonb, ev.occurred_at, ev.local_date, ev.id);
            END LOOP;
            n := n + 1;
        ELSIF cur.target_date <> cur.local_date THEN
            DELETE FROM public.live_checkins AS c WHERE c.id = cur.id;
        END IF;
    END LOOP;

    FOREACH d IN ARRAY targets LOOP
        INSERT INTO public.live_checkins AS c (id, user_id, local_date, checkin_type, created_at, updated_at)
        VALUES (d.id, d.user_id, d.date_submitted, d.checkin_type, d.created_at, d.updated_at)
        ON CONFLICT (id) DO UPDATE SET
            local_date = excluded.local_date,
            checkin_type = excluded.checkin_type,
            created_at = excluded.created_at,
            updated_at = excluded.updated_at
        WHERE (c.local_date, c.checkin_type, c.created_at, c.updated_at)
            IS DISTINCT FROM (excluded.local_date, excluded.checkin_type, excluded.created_at, excluded.updated_at);
        IF core.legacy_apply_events(p_user_id, d.id, core.legacy_fields(d), d.checkin_type, d.date_submitted,
            d.created_at, d.updated_at) THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION core.legacy_reconcile(uuid, uuid[]) IS
'Make the V2 state of the user''s check-ins p_ids (live_checkins, events) equal to their daily_checkins rows: '
'import new ones, correct changed ones, retract deleted ones; live check-ins blocking a date are included. '
'Returns the number of check-ins whose events changed. Callers hold the user''s sync lock.';

CREATE OR REPLACE FUNCTION core.legacy_sync_lock(p_user_id uuid)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog
AS $$
    SELECT pg_advisory_xact_lock(hashtext('novara.sync_legacy_checkins'), hashtext(p_user_id::text))
$$;

COMMENT ON FUNCTION core.legacy_sync_lock(uuid) IS
'Take the transaction-level advisory lock that serialises imports of one user''s legacy writes.';

-- One batch of the user's pending entries (oldest first). The entries are read in one statement and deleted
-- by position after their check-ins are reconciled, so an entry committed meanwhile stays pending.
CREATE OR REPLACE FUNCTION core.legacy_sync_user(p_user_id uuid, p_batch integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    positions bigint[];
    ids uuid[];
BEGIN
    SELECT coalesce(array_agg(x.position), '{}'), coalesce(array_agg(DISTINCT x.checkin_id), '{}')
    INTO positions, ids
    FROM (
        SELECT l.position, l.checkin_id
        FROM public.legacy_checkin_changes AS l
        WHERE l.user_id = p_user_id
        ORDER BY l.position
        LIMIT greatest(p_batch, 1)
    ) AS x;
    IF cardinality(positions) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM core.legacy_reconcile(p_user_id, ids);
    DELETE FROM public.legacy_checkin_changes AS l WHERE l.user_id = p_user_id AND l.position = ANY (positions);
    RETURN cardinality(positions);
END
$$;

COMMENT ON FUNCTION core.legacy_sync_user(uuid, integer) IS
'Apply up to p_batch of the user''s pending legacy_checkin_changes (oldest first) and delete them; returns how '
'many. Callers hold the user''s sync lock.';

CREATE OR REPLACE FUNCTION core.sync_legacy_checkins(p_user_id uuid DEFAULT NULL, p_batch integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    prior_claims text;
    batch integer := greatest(coalesce(p_batch, 1000), 1);
    total integer := 0;
    n integer;
    uid uuid;
    uids uuid[];
BEGIN
    IF p_user_id IS NOT NULL THEN
        -- The common case, on every V2 request: nothing pending, one probe of legacy_checkin_changes_user.
        IF NOT EXISTS (SELECT 1 FROM public.legacy_checkin_changes AS l WHERE l.user_id = p_user_id) THEN
            RETURN 0;
        END IF;
        IF current_setting('transaction_read_only') = 'on' THEN
            RETURN 0;  -- a READ ONLY transaction cannot import: the caller reads what the log has
        END IF;
        -- Drain the user's queue (batch by batch) so the caller sees every legacy write committed before it.
        PERFORM core.legacy_sync_lock(p_user_id);
        LOOP
            n := core.legacy_sync_user(p_user_id, batch);
            total := total + n;
            EXIT WHEN n < batch;
        END LOOP;
        RETURN total;
    END IF;

    -- Every user (DBAs, the migration): at most about p_batch entries, user by user, oldest pending first.
    -- Row-level security is forced, so each user is named in the claims while their rows are written.
    prior_claims := coalesce(current_setting('request.jwt.claims', TRUE), '');
    SELECT coalesce(array_agg(x.user_id ORDER BY x.first), '{}') INTO uids
    FROM (
        SELECT l.user_id, min(l.position) AS first
        FROM public.legacy_checkin_changes AS l
        GROUP BY l.user_id
    ) AS x;
    FOREACH uid IN ARRAY uids LOOP
        PERFORM set_config('request.jwt.claims', jsonb_build_object('id', uid)::text, TRUE);
        PERFORM core.legacy_sync_lock(uid);
        LOOP
            n := core.legacy_sync_user(uid, batch - total);
            total := total + n;
            EXIT WHEN n = 0 OR total >= batch;
        END LOOP;
        EXIT WHEN total >= batch;
    END LOOP;
    PERFORM set_config('request.jwt.claims', prior_claims, TRUE);
    RETURN total;
END
$$;

COMMENT ON FUNCTION core.sync_legacy_checkins(uuid, integer) IS
'Import pending legacy_checkin_changes into the event log, idempotently: insert -> record events (id = the '
'legacy id), update -> corrections, delete -> retractions. p_user_id: drain that user''s queue (one index probe '
'when empty; skipped in READ ONLY transactions); NULL: all users, about p_batch entries per call. Returns the '
'number of entries applied.';
