-- The record of reads of a person's data outside that person's own requests: who read whose rows, from which
-- relation, when (docs/audit.md). Analysts' reads are recorded by their row-level policies, each of which calls
-- core.note_access (below); a DBA's export (core.export_user) records itself. The recorder is defined here, with
-- the table and the policies it serves, like the trigger functions: changing it takes a new migration. Nobody but
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

-- The recorder, called by the analysts' row-level policies for each row they let through.
CREATE FUNCTION core.note_access(p_relation text, p_subject uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md. Here: the reader (an analyst) may not write the log itself,
-- only through this function, which appends a record of its own read and nothing else.
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    -- A login that may empty the table (its owner, a superuser, a role acting as the owner, e.g. refreshing the
    -- metrics views) is not recorded: it could remove the rows and this log alike (docs/audit.md says how to
    -- record it with the server's own logging). Nobody else holds TRUNCATE on a per-user table.
    IF p_subject IS NULL OR has_table_privilege(session_user, p_relation, 'TRUNCATE') THEN
        RETURN TRUE;
    END IF;
    INSERT INTO public.data_access_log (reader, reader_role, subject_id, relation, via)
    VALUES (session_user, current_setting('role'), p_subject, p_relation, 'row-level security')
    -- the arbiter is data_access_log_once, the one unique key besides the id (naming it would need SELECT)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        -- The server log keeps the read even when the reader rolls its transaction back (the row above goes
        -- with it); with log_min_error_statement at its default the statement is logged beside it.
        RAISE LOG 'novara audit: % (role %) read % of user %', session_user, current_setting('role'), p_relation,
            p_subject;
    END IF;
    RETURN TRUE;
END
$$;

ALTER FUNCTION core.note_access(text, uuid) OWNER TO novara_definer;
REVOKE ALL ON FUNCTION core.note_access(text, uuid) FROM public, novara_api;
GRANT EXECUTE ON FUNCTION core.note_access(text, uuid) TO novara_analyst;

COMMENT ON FUNCTION core.note_access(text, uuid) IS
'Audit (docs/audit.md): records that the session''s login read rows of user p_subject from p_relation, once per '
'transaction, relation and user, in data_access_log (and a LOG line in the server log); always returns true, so '
'a row-level policy can call it for each row it lets an analyst read. Logins holding TRUNCATE on the relation '
'(its owner) are not recorded.';

-- Analysts' reads of per-user data leave a record: each row-level policy that lets an analyst read a per-user table
-- calls core.note_access for the row's user (no pgaudit on these servers). Views over these tables are
-- security_invoker, so reading them goes through the same policies; the materialized metrics views, which have no
-- row-level security, are read through recording views (views/analyst_daily_metrics.sql, analyst_weekly_metrics).
ALTER POLICY users_analyst_read ON public.users USING (core.note_access('public.users', id));
ALTER POLICY user_profiles_analyst_read ON public.user_profiles
USING (core.note_access('public.user_profiles', user_id));
ALTER POLICY health_events_analyst_read ON public.health_events
USING (core.note_access('public.health_events', user_id));
ALTER POLICY live_checkins_analyst_read ON public.live_checkins
USING (core.note_access('public.live_checkins', user_id));
ALTER POLICY insights_analyst_read ON public.insights USING (core.note_access('public.insights', user_id));
ALTER POLICY daily_checkins_analyst_read ON public.daily_checkins
USING (core.note_access('public.daily_checkins', user_id));
ALTER POLICY legacy_checkin_changes_analyst_read ON public.legacy_checkin_changes
USING (core.note_access('public.legacy_checkin_changes', user_id));
ALTER POLICY insight_engagement_analyst_read ON public.insight_engagement
USING (core.note_access('public.insight_engagement', user_id));
ALTER POLICY insight_feedback_analyst_read ON public.insight_feedback
USING (core.note_access('public.insight_feedback', user_id));
