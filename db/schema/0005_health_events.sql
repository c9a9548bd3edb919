-- The central, immutable, append-only event log.
--
-- A correction is a new event (action 'correct') whose related_event_id names the event it supersedes;
-- a retraction is a new event (action 'retract') naming the event it withdraws. An event is live when it
-- is not a retraction and no correction or retraction names it. Each event is superseded at most once
-- (unique index), so corrections form a chain and two concurrent corrections of one event cannot both win.

CREATE TABLE public.health_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position bigint GENERATED ALWAYS AS IDENTITY,
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    event_type text NOT NULL REFERENCES public.event_types (event_type),
    event_subtype text,
    event_data jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    local_date date NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    action text NOT NULL DEFAULT 'record',
    source text NOT NULL DEFAULT 'api_v2',
    source_version text NOT NULL DEFAULT 'v2',
    correlation_id uuid,
    related_event_id uuid REFERENCES public.health_events (id) ON DELETE CASCADE,
    idempotency_key text,
    request_hash text,
    CONSTRAINT health_events_position_key UNIQUE (position),
    CONSTRAINT health_events_data_object CHECK (jsonb_typeof(event_data) = 'object'),
    CONSTRAINT health_events_action_check CHECK (action IN ('record', 'correct', 'retract')),
    CONSTRAINT health_events_supersedes CHECK (action = 'record' OR related_event_id IS NOT NULL),
    CONSTRAINT health_events_subtype_length CHECK (char_length(event_subtype) <= 50),
    CONSTRAINT health_events_source_length CHECK (char_length(source) <= 50 AND char_length(source_version) <= 20),
    CONSTRAINT health_events_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200)
);

COMMENT ON TABLE public.health_events IS
'Immutable, append-only log of health events (mood, medication, symptom, assessment, ...). UPDATE, DELETE '
'and TRUNCATE are refused by triggers except inside core.erase_user (right to be forgotten). Corrections '
'and retractions are new events pointing at the event they supersede (related_event_id).';
COMMENT ON COLUMN public.health_events.position IS
'Monotonic sequence number (allocation order), usable as a checkpoint by readers of the log.';
COMMENT ON COLUMN public.health_events.event_data IS
'JSON object validated against event_types.rules. Check-in events add "fields": the V1 answers verbatim.';
COMMENT ON COLUMN public.health_events.occurred_at IS 'When it happened (client time, at most 24 h ahead).';
COMMENT ON COLUMN public.health_events.local_date IS
'The user''s local calendar day of the event (profile timezone), or the date the client sent for check-ins.';
COMMENT ON COLUMN public.health_events.recorded_at IS 'When the database recorded it.';
COMMENT ON COLUMN public.health_events.action IS
'record (a new fact), correct (replaces related_event_id), retract (withdraws related_event_id).';
COMMENT ON COLUMN public.health_events.correlation_id IS
'Groups events written together; for a V1 check-in it is the check-in''s id.';
COMMENT ON COLUMN public.health_events.related_event_id IS
'For correct/retract: the event superseded. For record: an optional link to a related event.';
COMMENT ON COLUMN public.health_events.idempotency_key IS
'Client Idempotency-Key (unique per user); request_hash is the hash of the body first sent with it.';

-- Per-user, time-ordered reads (timeline) and per-day reads (summaries, metrics).
CREATE INDEX health_events_user_occurred ON public.health_events (user_id, occurred_at DESC, position DESC);
CREATE INDEX health_events_user_local_date ON public.health_events (user_id, local_date);
CREATE INDEX health_events_correlation ON public.health_events (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE UNIQUE INDEX health_events_superseded_once ON public.health_events (related_event_id)
WHERE action <> 'record';
CREATE INDEX health_events_related ON public.health_events (related_event_id) WHERE related_event_id IS NOT NULL;
CREATE UNIQUE INDEX health_events_idempotency ON public.health_events (user_id, idempotency_key)
WHERE idempotency_key IS NOT NULL;

-- Immutability: only the erasure path may delete (it sets novara.erasure for its transaction).
CREATE FUNCTION core.health_events_immutable()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('novara.erasure', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'health_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'NV403',
              HINT = 'Append a correction or retraction event instead; erasure goes through core.erase_user.';
END
$$;
COMMENT ON FUNCTION core.health_events_immutable() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE on health_events except deletes inside core.erase_user.';

CREATE TRIGGER health_events_no_update_delete
BEFORE UPDATE OR DELETE ON public.health_events
FOR EACH ROW EXECUTE FUNCTION core.health_events_immutable();

CREATE TRIGGER health_events_no_truncate
BEFORE TRUNCATE ON public.health_events
FOR EACH STATEMENT EXECUTE FUNCTION core.health_events_immutable();

-- The live check-ins: a projection of the log (rebuildable from it by core.rebuild_live_checkins) that
-- also enforces "one live check-in per user per local date" with a unique constraint, race-safe.
CREATE TABLE public.live_checkins (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    local_date date NOT NULL,
    checkin_type text NOT NULL DEFAULT 'standard',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT live_checkins_one_per_day UNIQUE (user_id, local_date)
);
COMMENT ON TABLE public.live_checkins IS
'One row per live V1 check-in (id = the correlation_id of its events). Maintained by the check-in '
'functions in the same transaction as the events; a retraction deletes the row and frees the date. '
'The unique (user_id, local_date) makes concurrent duplicate submissions fail for all but one.';
