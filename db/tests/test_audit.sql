-- The audit of reads outside the person's own requests (docs/audit.md); the reads themselves, as an analyst login,
-- are tested over real connections in tests/isolation/test_audit.py.

CREATE OR REPLACE FUNCTION tests.test_every_analyst_policy_records_the_read()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(p.tablename || '.' || p.policyname || ': ' || p.qual, ', ') INTO bad
    FROM pg_catalog.pg_policies AS p
    WHERE p.schemaname = 'public' AND 'novara_analyst' = ANY(p.roles)
        AND p.qual !~ ('^core\.note_access\(''public\.' || p.tablename || '''::text, (user_id|id)\)$');
    PERFORM tests.assert_eq(bad, NULL, 'analyst policies that do not record');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM pg_catalog.pg_policies AS p WHERE 'novara_analyst' = ANY(p.roles)), 9::bigint, 'nine'
    );
    -- every relation analysts may read that holds per-user rows is either behind such a policy, a
    -- security_invoker view over them, or a recording view
    SELECT string_agg(c.oid::regclass::text, ', ') INTO bad
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm')
        AND has_table_privilege('novara_analyst', c.oid, 'SELECT')
        AND EXISTS (
            SELECT 1 FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
        )
        AND NOT (c.relkind = 'r' AND c.relrowsecurity AND c.relforcerowsecurity)
        AND NOT (c.relkind = 'v' AND 'security_invoker=true' = ANY(c.reloptions))
        AND NOT (c.relkind = 'v' AND pg_get_viewdef(c.oid) ~ 'core\.note_access\(');
    PERFORM tests.assert_eq(bad, NULL, 'per-user relations analysts read unrecorded');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_the_log_is_closed_to_everyone_but_the_recorder()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r text;
    p text;
BEGIN
    FOREACH r IN ARRAY ARRAY['public', 'novara_api', 'novara_analyst', 'novara_authenticator'] LOOP
        FOREACH p IN ARRAY ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] LOOP
            PERFORM tests.assert_eq(has_table_privilege(r, 'public.data_access_log', p), FALSE, r || ' ' || p);
        END LOOP;
    END LOOP;
    PERFORM tests.assert_eq(has_table_privilege('novara_definer', 'public.data_access_log', 'INSERT'), TRUE);
    FOREACH p IN ARRAY ARRAY['SELECT', 'UPDATE', 'DELETE', 'TRUNCATE'] LOOP
        PERFORM tests.assert_eq(has_table_privilege('novara_definer', 'public.data_access_log', p), FALSE, p);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_the_persons_own_requests_are_not_recorded()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM api.create_checkin('{"mood_today": "hopeful", "confidence_today": 7}');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.list_checkins('{}');
    PERFORM api.timeline('{}');
    PERFORM api.export_me('{}');
    PERFORM api.user_metrics('{}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.data_access_log), 0::bigint, 'no record');
END
$$;
