-- The audit of reads outside the person's own requests (docs/audit.md): the row-level policies through which
-- analysts read per-user tables call this for each row they let through (db/views/analyst_audit.sql).

CREATE OR REPLACE FUNCTION core.note_access(p_relation text, p_subject uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: the reader (an analyst) may not write the log itself, only through this function, which
-- appends a record of its own read and nothing else. novara_definer is not BYPASSRLS.
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
