-- valid-checksum: 0b9be064b5e76f17c6d8716a935ea33b694f0541184a7983d04ac7f200a020a9
-- (a comment reworded since: the same objects result)
-- Idempotent check-in creation: the Idempotency-Key of a POST /api/checkins or
-- /api/daily-checkin-enhanced, per user, with the hash of the body first sent with it and the response it got.
--
-- One table for both modes: V2 (event log + dual write) and V1 (daily_checkins only) write and read it the
-- same way, and a check-in keeps its id in both stores, so a retry is recognised whatever instance or mode
-- serves it (docs/v1-v2-sync.md). Keys of events live in health_events.idempotency_key (0005).

CREATE TABLE public.checkin_idempotency (
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    checkin_id uuid,
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT checkin_idempotency_pkey PRIMARY KEY (user_id, idempotency_key),
    CONSTRAINT checkin_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    CONSTRAINT checkin_idempotency_response_object CHECK (response IS NULL OR jsonb_typeof(response) = 'object')
);
COMMENT ON TABLE public.checkin_idempotency IS
'Idempotency-Keys of check-in creations (V1 and V2 mode alike), unique per user: the hash of the body first '
'sent with the key, the check-in created and the response returned (a replay returns it again, status 200). '
'Written in the creating transaction, so a key is taken only by a check-in that committed.';
COMMENT ON COLUMN public.checkin_idempotency.checkin_id IS
'The check-in created (its id in daily_checkins and, as correlation_id, in the event log). NULL only inside '
'the creating transaction.';
COMMENT ON COLUMN public.checkin_idempotency.response IS
'The body of the original 201 response (without _status). NULL only inside the creating transaction.';

ALTER TABLE public.checkin_idempotency ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.checkin_idempotency FORCE ROW LEVEL SECURITY;
CREATE POLICY checkin_idempotency_owner ON public.checkin_idempotency
USING (user_id = (SELECT core.current_user_id()))
WITH CHECK (user_id = (SELECT core.current_user_id()));
CREATE POLICY checkin_idempotency_analyst_read ON public.checkin_idempotency
FOR SELECT TO novara_analyst USING (TRUE);

-- No privilege for novara_api: only the check-in functions (owned by novara_definer) read and write it.
GRANT SELECT, INSERT, UPDATE ON public.checkin_idempotency TO novara_definer;
GRANT SELECT ON public.checkin_idempotency TO novara_analyst;
