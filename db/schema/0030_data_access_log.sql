-- The record of reads of a person's data outside that person's own requests: who read whose rows, from which
-- relation, when (docs/audit.md). Analysts' reads are recorded by their row-level policies (each calls
-- core.note_access, db/views/analyst_audit.sql); a DBA's export (core.export_user) records itself. Nobody but
-- the owner reads the log, and nobody but the recording function writes it: analysts can neither read whose data
-- their colleagues looked at nor remove their own traces.
CREATE TABLE public.data_access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    read_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    reader text NOT NULL,
    reader_role text NOT NULL,
    subject_id uuid NOT NULL,
    relation text NOT NULL,
    via text NOT NULL,
    xact_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
    -- One row per reading transaction, relation and person: a scan that passes a person's 1 000 rows records
    -- them once (the recording function inserts with ON CONFLICT DO NOTHING on this key).
    CONSTRAINT data_access_log_once UNIQUE (xact_id, relation, subject_id)
);
CREATE INDEX data_access_log_subject ON public.data_access_log (subject_id, read_at);
CREATE INDEX data_access_log_reader ON public.data_access_log (reader, read_at);
CREATE INDEX data_access_log_read_at ON public.data_access_log (read_at);

COMMENT ON TABLE public.data_access_log IS
'Reads of per-user rows outside the person''s own requests (docs/audit.md): one row per reading transaction, '
'relation and person. Written only by core.note_access (analysts'' row-level policies) and core.export_user; '
'read by the owner only. The person''s own requests (novara_api) are not recorded here.';
COMMENT ON COLUMN public.data_access_log.read_at IS 'When the first of these rows was read in that transaction.';
COMMENT ON COLUMN public.data_access_log.reader IS 'The login (session_user) that read.';
COMMENT ON COLUMN public.data_access_log.reader_role IS 'The role set with SET ROLE at the time (none: the login).';
COMMENT ON COLUMN public.data_access_log.subject_id IS 'The user (users.id) whose rows were read.';
COMMENT ON COLUMN public.data_access_log.relation IS
'The table whose row-level policy let the rows through (a view or a join records its tables), or the function.';
COMMENT ON COLUMN public.data_access_log.via IS 'row-level security (an analyst''s query) or core.export_user.';
COMMENT ON COLUMN public.data_access_log.xact_id IS 'The reading transaction (with backend_pid: one session).';
COMMENT ON COLUMN public.data_access_log.backend_pid IS 'The reading session''s server process id.';

REVOKE ALL ON public.data_access_log FROM public;
GRANT INSERT ON public.data_access_log TO novara_definer;
