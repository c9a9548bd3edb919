-- The privilege matrix: what every role may do to every object of the schema, read from the catalog, must equal
-- the expected table below. A grant, membership, role attribute, policy, default privilege or owner added later
-- without updating this table fails the test (and the failure lists each difference). docs/roles.md explains
-- the jobs behind the table.
--
-- Roles: novara_api, novara_definer, novara_analyst, novara_authenticator and PUBLIC. The owner login (whoever
-- ran the migrations: the embedded server's superuser here, a dedicated owner on managed servers) owns
-- everything else and appears as "(owner)". Objects: schemas api, core, public, without the objects of
-- extensions (pg_stat_statements keeps its own grants).

-- Every fact as (grantee, privilege, object). Column privileges are listed only where the table-level privilege
-- is absent; EXECUTE on a function owned by the role is listed like any other.
CREATE OR REPLACE FUNCTION tests.privilege_facts()
RETURNS TABLE (grantee text, privilege text, object text)
LANGUAGE sql
AS $$
    WITH
    roles (name) AS (VALUES ('novara_api'), ('novara_definer'), ('novara_analyst'), ('novara_authenticator')),
    grantees (name) AS (SELECT name FROM roles UNION ALL SELECT 'public'),
    owner_login AS (SELECT c.relowner AS oid FROM pg_catalog.pg_class AS c WHERE c.oid = 'public.health_events'::regclass),
    schemas AS (
        SELECT n.oid, n.nspname::text AS name FROM pg_catalog.pg_namespace AS n
        WHERE n.nspname IN ('api', 'core', 'public')
    ),
    extension_objects AS (
        SELECT d.classid, d.objid FROM pg_catalog.pg_depend AS d WHERE d.deptype = 'e'
    ),
    relations AS (
        SELECT c.oid, s.name || '.' || c.relname AS name, c.relkind, c.relowner, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_catalog.pg_class AS c
        INNER JOIN schemas AS s ON c.relnamespace = s.oid
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            AND NOT EXISTS (
                SELECT 1 FROM extension_objects AS e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
            )
    ),
    functions AS (
        SELECT p.oid, format('%s.%s(%s)', s.name, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) AS name,
            p.proowner
        FROM pg_catalog.pg_proc AS p
        INNER JOIN schemas AS s ON p.pronamespace = s.oid
        WHERE NOT EXISTS (
            SELECT 1 FROM extension_objects AS e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
        )
    ),
    table_privileges (name) AS (
        SELECT unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
            || CASE WHEN current_setting('server_version_num')::int >= 170000 THEN ARRAY['MAINTAIN'] END)
    )
    -- roles: attributes, and every membership they hold (whoever granted it)
    SELECT r.rolname::text, 'ATTRIBUTES', concat_ws(' ',
        CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
        CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
        CASE WHEN r.rolreplication THEN 'REPLICATION' END,
        CASE WHEN r.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END, CASE WHEN r.rolinherit THEN 'INHERIT' ELSE 'NOINHERIT' END)
    FROM pg_catalog.pg_roles AS r INNER JOIN roles ON r.rolname = roles.name
    UNION ALL
    SELECT m.rolname::text, 'MEMBER OF', g.rolname::text
    FROM pg_catalog.pg_auth_members AS am
    INNER JOIN pg_catalog.pg_roles AS m ON am.member = m.oid
    INNER JOIN pg_catalog.pg_roles AS g ON am.roleid = g.oid
    WHERE m.rolname IN (SELECT name FROM roles)
    UNION ALL
    -- schemas
    SELECT gr.name, p.name, 'schema ' || s.name
    FROM schemas AS s CROSS JOIN grantees AS gr CROSS JOIN (VALUES ('USAGE'), ('CREATE')) AS p (name)
    WHERE pg_catalog.has_schema_privilege(gr.name, s.oid, p.name)
    UNION ALL
    -- tables, views, materialized views
    SELECT gr.name, p.name, r.name
    FROM relations AS r CROSS JOIN grantees AS gr CROSS JOIN table_privileges AS p
    WHERE r.relkind <> 'S' AND pg_catalog.has_table_privilege(gr.name, r.oid, p.name)
    UNION ALL
    -- sequences
    SELECT gr.name, p.name, r.name
    FROM relations AS r CROSS JOIN grantees AS gr CROSS JOIN (VALUES ('USAGE'), ('SELECT'), ('UPDATE')) AS p (name)
    WHERE r.relkind = 'S' AND pg_catalog.has_sequence_privilege(gr.name, r.oid, p.name)
    UNION ALL
    -- columns, where the table-level privilege is absent
    SELECT gr.name, p.name, r.name || '.' || a.attname
    FROM relations AS r
    INNER JOIN pg_catalog.pg_attribute AS a ON r.oid = a.attrelid AND a.attnum > 0 AND NOT a.attisdropped
    CROSS JOIN grantees AS gr CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('REFERENCES')) AS p (name)
    WHERE r.relkind <> 'S'
        AND NOT pg_catalog.has_table_privilege(gr.name, r.oid, p.name)
        AND pg_catalog.has_column_privilege(gr.name, r.oid, a.attnum, p.name)
    UNION ALL
    -- functions
    SELECT gr.name, 'EXECUTE', f.name
    FROM functions AS f CROSS JOIN grantees AS gr
    WHERE pg_catalog.has_function_privilege(gr.name, f.oid, 'EXECUTE')
    UNION ALL
    -- owners other than the owner login
    SELECT o.rolname::text, 'OWNER', x.name
    FROM (
        SELECT r.name, r.relowner AS owner FROM relations AS r
        UNION ALL SELECT f.name, f.proowner FROM functions AS f
        UNION ALL SELECT 'schema ' || s.name, n.nspowner FROM schemas AS s
        INNER JOIN pg_catalog.pg_namespace AS n ON s.oid = n.oid
    ) AS x
    INNER JOIN pg_catalog.pg_roles AS o ON x.owner = o.oid
    WHERE x.owner <> (SELECT oid FROM owner_login)
    UNION ALL
    -- row-level security, per table
    SELECT '(table)', CASE WHEN r.relforcerowsecurity THEN 'RLS FORCED' ELSE 'RLS NOT FORCED' END, r.name
    FROM relations AS r
    WHERE r.relrowsecurity OR r.relforcerowsecurity
    UNION ALL
    -- policies: to whom, for which command
    SELECT
        (SELECT string_agg(CASE WHEN r.rolname = pg_catalog.pg_get_userbyid((SELECT oid FROM owner_login))
            THEN '(owner)' ELSE r.rolname::text END, ',' ORDER BY r.rolname) FROM unnest(p.roles) AS r (rolname)),
        'POLICY ' || p.cmd || ' ' || p.policyname, p.schemaname || '.' || p.tablename
    FROM pg_catalog.pg_policies AS p
    WHERE p.schemaname IN ('api', 'core', 'public')
    UNION ALL
    -- default privileges: what objects created later will grant
    SELECT
        CASE WHEN acl.grantee = 0 THEN 'public' WHEN acl.grantee = (SELECT oid FROM owner_login) THEN '(owner)'
            ELSE pg_catalog.pg_get_userbyid(acl.grantee)::text END,
        'DEFAULT ' || acl.privilege_type || ' ON ' || CASE d.defaclobjtype
            WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES'
            WHEN 'n' THEN 'SCHEMAS' ELSE d.defaclobjtype::text END,
        CASE WHEN d.defaclrole = (SELECT oid FROM owner_login) THEN '(owner)'
            ELSE pg_catalog.pg_get_userbyid(d.defaclrole)::text END
        || coalesce(' in ' || n.nspname, '')
    FROM pg_catalog.pg_default_acl AS d
    LEFT JOIN pg_catalog.pg_namespace AS n ON d.defaclnamespace = n.oid
    CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS acl
    WHERE n.nspname IS NULL OR n.nspname IN ('api', 'core', 'public')
$$;

-- Every object name of the schema (relations, functions, schemas): what a pattern row of the expected table
-- expands to.
CREATE OR REPLACE FUNCTION tests.schema_object_names()
RETURNS SETOF text
LANGUAGE sql
AS $$
    SELECT n.nspname || '.' || c.relname
    FROM pg_catalog.pg_class AS c INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('api', 'core', 'public') AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    UNION ALL
    SELECT format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
    FROM pg_catalog.pg_proc AS p INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
    WHERE n.nspname IN ('api', 'core', 'public')
$$;

-- The expected table. `objects` holds exact names, or patterns ending in `%` that stand for every object of that
-- name (a family with one rule, e.g. "the gateway role executes every api.* function"); `except` names the
-- members of a pattern's family that are not granted.
CREATE OR REPLACE FUNCTION tests.privilege_expected()
RETURNS TABLE (grantee text, privilege text, object text)
LANGUAGE sql
AS $$
    WITH rows (grantee, privilege, objects, exceptions) AS (VALUES
        -- roles ------------------------------------------------------------------------------------------------
        ('novara_api', 'ATTRIBUTES', ARRAY['NOLOGIN NOINHERIT'], NULL::text[]),
        ('novara_definer', 'ATTRIBUTES', ARRAY['NOLOGIN NOINHERIT'], NULL),
        ('novara_analyst', 'ATTRIBUTES', ARRAY['NOLOGIN INHERIT'], NULL),
        ('novara_authenticator', 'ATTRIBUTES', ARRAY['LOGIN NOINHERIT'], NULL),
        ('novara_authenticator', 'MEMBER OF', ARRAY['novara_api'], NULL),
        -- schemas ----------------------------------------------------------------------------------------------
        ('public', 'USAGE', ARRAY['schema public'], NULL),
        ('novara_api', 'USAGE', ARRAY['schema api', 'schema core', 'schema public'], NULL),
        ('novara_definer', 'USAGE', ARRAY['schema api', 'schema core', 'schema public'], NULL),
        ('novara_analyst', 'USAGE', ARRAY['schema core', 'schema public'], NULL),
        ('novara_authenticator', 'USAGE', ARRAY['schema public'], NULL),
        ('pg_database_owner', 'OWNER', ARRAY['schema public'], NULL),
        -- the gateway role: every api function, the identity functions its policies call, reads under RLS -----
        ('novara_api', 'EXECUTE', ARRAY[
            'api.%', 'core.claims()', 'core.claim_id()', 'core.claim_email()', 'core.current_user_id()',
            'core.mood_score(text)', 'core.jsonb_concat_agg(jsonb)', 'core.wal_archive()'
        ], NULL),
        ('novara_api', 'SELECT', ARRAY[
            'public.users', 'public.user_profiles', 'public.health_events', 'public.insights',
            'public.daily_checkins', 'public.insight_engagement', 'public.insight_feedback', 'public.event_types',
            'public.mood_scores', 'public.checkin_fields', 'public.timezones', 'public.insight_rules',
            'public.checkin_focus_dimensions', 'public.checkin_questions', 'public.schema_migrations',
            'public.health_events_live', 'public.daily_checkins_legacy', 'public.user_daily_metrics_live',
            'public.profile_fields', 'public.user_day_rollups'
        ], NULL),
        ('novara_api', 'DEFAULT EXECUTE ON FUNCTIONS', ARRAY['(owner) in api'], NULL),
        -- the functions' owner: owns every api function, executes core, writes through RLS ------------------------
        -- core.note_access: the audit's recorder (docs/audit.md), definer so that readers append without writing
        ('novara_definer', 'OWNER', ARRAY['api.%', 'core.forget_login_attempts()', 'core.note_access(text, uuid)'],
            NULL),
        -- core.export_user is a DBA's, like core.erase_user; so is core.monitoring (novara monitor)
        ('novara_definer', 'EXECUTE', ARRAY['api.%', 'core.%'],
            ARRAY[
                'core.erase_user(uuid, text)', 'core.forget_login_attempts()', 'core.export_user(uuid, text)',
                'core.monitoring(integer)'
            ]),
        ('novara_definer', 'DEFAULT EXECUTE ON FUNCTIONS', ARRAY['(owner) in core'], NULL),
        ('novara_definer', 'SELECT', ARRAY[
            'public.users', 'public.user_profiles', 'public.health_events', 'public.insights',
            'public.daily_checkins', 'public.insight_engagement', 'public.insight_feedback',
            'public.legacy_checkin_changes', 'public.user_credentials', 'public.login_attempts',
            'public.checkin_idempotency', 'public.login_limits', 'public.event_types', 'public.mood_scores',
            'public.checkin_fields', 'public.timezones', 'public.insight_rules', 'public.checkin_focus_dimensions',
            'public.checkin_questions', 'public.metrics_refresh_log', 'public.schema_migrations',
            'public.health_events_live', 'public.daily_checkins_legacy', 'public.user_daily_metrics_live',
            'public.user_daily_metrics', 'public.user_weekly_metrics', 'public.profile_fields',
            'public.user_day_rollups'
        ], NULL),
        ('novara_definer', 'INSERT', ARRAY[
            'public.users', 'public.user_profiles', 'public.health_events', 'public.insights',
            'public.daily_checkins', 'public.insight_engagement', 'public.insight_feedback',
            'public.user_credentials', 'public.login_attempts', 'public.checkin_idempotency',
            -- the audit: only core.note_access (owned by the definer) appends; nobody else reads or writes the log
            'public.data_access_log',
            -- the rollups: the trigger on health_events runs as the writer (the definer, for the API)
            'public.user_day_rollups'
        ], NULL),
        ('novara_definer', 'UPDATE', ARRAY[
            'public.users', 'public.user_profiles', 'public.insights', 'public.daily_checkins',
            'public.insight_feedback', 'public.user_credentials', 'public.login_attempts', 'public.checkin_idempotency',
            'public.user_day_rollups'
        ], NULL),
        ('novara_definer', 'DELETE', ARRAY[
            'public.insights', 'public.daily_checkins', 'public.legacy_checkin_changes',
            'public.user_credentials', 'public.login_attempts',
            -- a recompute of a day's rollup replaces its row
            'public.user_day_rollups'
        ], NULL),
        -- analysts: read-only, pseudonymous (no email, no nickname, no credentials, attempts or idempotency keys) --
        -- the pure functions the security_invoker views they read call; core.note_access: their row-level policies
        -- call it, so reading is recording (docs/audit.md)
        ('novara_analyst', 'EXECUTE', ARRAY[
            'core.mood_score(text)', 'core.jsonb_concat_agg(jsonb)', 'core.note_access(text, uuid)'
        ], NULL),
        ('novara_analyst', 'SELECT', ARRAY[
            'public.health_events', 'public.insights', 'public.daily_checkins',
            'public.legacy_checkin_changes', 'public.insight_engagement', 'public.insight_feedback',
            'public.event_types', 'public.mood_scores', 'public.checkin_fields', 'public.timezones',
            'public.insight_rules', 'public.checkin_focus_dimensions', 'public.checkin_questions',
            'public.metrics_refresh_log', 'public.erasure_log', 'public.schema_migrations',
            'public.health_events_live', 'public.daily_checkins_legacy', 'public.user_daily_metrics_live',
            -- the metrics snapshots (no row-level security) only through views that record each read
            'public.analyst_daily_metrics', 'public.analyst_weekly_metrics', 'public.profile_fields',
            'public.user_day_rollups',
            'public.users.id', 'public.users.status', 'public.users.created_at', 'public.users.updated_at',
            'public.user_profiles.user_id', 'public.user_profiles.timezone', 'public.user_profiles.email_opt_in',
            'public.user_profiles.confidence_meds', 'public.user_profiles.confidence_costs',
            'public.user_profiles.confidence_overall', 'public.user_profiles.primary_need',
            'public.user_profiles.cycle_stage', 'public.user_profiles.top_concern',
            'public.user_profiles.medication_status', 'public.user_profiles.onboarding_path',
            'public.user_profiles.baseline_completed', 'public.user_profiles.cycle_stage_updated',
            'public.user_profiles.medication_status_updated', 'public.user_profiles.created_at',
            'public.user_profiles.updated_at'
        ], NULL),
        -- the owner login: no function executable by PUBLIC unless granted -----------------------------------------
        ('(owner)', 'DEFAULT EXECUTE ON FUNCTIONS', ARRAY['(owner)'], NULL),
        -- row-level security: forced on every per-user table --------------------------------------------------
        ('(table)', 'RLS FORCED', ARRAY[
            'public.users', 'public.user_profiles', 'public.health_events', 'public.insights',
            'public.daily_checkins', 'public.legacy_checkin_changes', 'public.insight_engagement',
            'public.insight_feedback', 'public.user_credentials', 'public.login_attempts', 'public.checkin_idempotency',
            'public.user_day_rollups'
        ], NULL),
        -- policies: the claims are trusted for the identity-carrying roles only --------------------------------
        ('novara_api,novara_definer', 'POLICY ALL users_self', ARRAY['public.users'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL user_profiles_owner', ARRAY['public.user_profiles'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL health_events_owner', ARRAY['public.health_events'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL insights_owner', ARRAY['public.insights'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL daily_checkins_owner', ARRAY['public.daily_checkins'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL legacy_checkin_changes_owner', ARRAY['public.legacy_checkin_changes'],
            NULL),
        ('novara_api,novara_definer', 'POLICY ALL insight_engagement_owner', ARRAY['public.insight_engagement'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL insight_feedback_owner', ARRAY['public.insight_feedback'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL user_credentials_owner', ARRAY['public.user_credentials'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL login_attempts_owner', ARRAY['public.login_attempts'], NULL),
        ('novara_api,novara_definer', 'POLICY ALL checkin_idempotency_owner', ARRAY['public.checkin_idempotency'],
            NULL),
        ('novara_api,novara_definer', 'POLICY ALL user_day_rollups_owner', ARRAY['public.user_day_rollups'], NULL),
        ('novara_definer', 'POLICY ALL login_attempts_definer', ARRAY['public.login_attempts'], NULL),
        ('(owner)', 'POLICY INSERT legacy_checkin_changes_logger', ARRAY['public.legacy_checkin_changes'], NULL),
        -- the rollups' trigger as the owner (imports of every user's V1-mode writes, backfills) writes any user's day
        ('(owner)', 'POLICY ALL user_day_rollups_maintainer', ARRAY['public.user_day_rollups'], NULL),
        ('novara_analyst', 'POLICY SELECT users_analyst_read', ARRAY['public.users'], NULL),
        ('novara_analyst', 'POLICY SELECT user_profiles_analyst_read', ARRAY['public.user_profiles'], NULL),
        ('novara_analyst', 'POLICY SELECT health_events_analyst_read', ARRAY['public.health_events'], NULL),
        ('novara_analyst', 'POLICY SELECT insights_analyst_read', ARRAY['public.insights'], NULL),
        ('novara_analyst', 'POLICY SELECT daily_checkins_analyst_read', ARRAY['public.daily_checkins'], NULL),
        ('novara_analyst', 'POLICY SELECT legacy_checkin_changes_analyst_read', ARRAY['public.legacy_checkin_changes'],
            NULL),
        ('novara_analyst', 'POLICY SELECT insight_engagement_analyst_read', ARRAY['public.insight_engagement'], NULL),
        ('novara_analyst', 'POLICY SELECT insight_feedback_analyst_read', ARRAY['public.insight_feedback'], NULL),
        ('novara_analyst', 'POLICY SELECT user_day_rollups_analyst_read', ARRAY['public.user_day_rollups'], NULL)
    )
    SELECT DISTINCT r.grantee, r.privilege, coalesce(o.name, x.object)
    FROM rows AS r
    CROSS JOIN LATERAL unnest(r.objects) AS x (object)
    LEFT JOIN LATERAL (
        SELECT n.name FROM tests.schema_object_names() AS n (name)
        WHERE x.object LIKE '%\%' AND n.name LIKE x.object AND n.name <> ALL (coalesce(r.exceptions, '{}'))
    ) AS o ON TRUE
    WHERE x.object NOT LIKE '%\%' OR o.name IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION tests.test_privilege_matrix_equals_the_catalog()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    diff text;
BEGIN
    SELECT string_agg(d.line, E'\n' ORDER BY d.line) INTO diff
    FROM (
        SELECT '+ granted, not expected: ' || f.grantee || ' ' || f.privilege || ' ' || f.object AS line
        FROM (SELECT * FROM tests.privilege_facts() EXCEPT SELECT * FROM tests.privilege_expected()) AS f
        UNION ALL
        SELECT '- expected, not granted: ' || e.grantee || ' ' || e.privilege || ' ' || e.object
        FROM (SELECT * FROM tests.privilege_expected() EXCEPT SELECT * FROM tests.privilege_facts()) AS e
    ) AS d;
    IF diff IS NOT NULL THEN
        PERFORM tests.fail(E'the catalog differs from the privilege matrix (update both, knowingly):\n' || diff);
    END IF;
    -- the matrix is not vacuous: the facts exist and the patterns expanded
    PERFORM tests.assert_true((SELECT count(*) FROM tests.privilege_facts()) > 300, 'facts collected');
END
$$;

-- The rules the matrix must respect, checked from the catalog on their own (so a wrong row in the matrix cannot
-- hide a breach).

-- The schema's own functions and relations: schemas api, core and public, without the objects of extensions.
CREATE OR REPLACE FUNCTION tests.own_functions()
RETURNS SETOF regprocedure
LANGUAGE sql
AS $$
    SELECT p.oid::regprocedure
    FROM pg_catalog.pg_proc AS p
    WHERE p.pronamespace IN ('api'::regnamespace, 'core'::regnamespace, 'public'::regnamespace)
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
$$;

CREATE OR REPLACE FUNCTION tests.own_relations()
RETURNS SETOF regclass
LANGUAGE sql
AS $$
    SELECT c.oid::regclass
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace IN ('api'::regnamespace, 'core'::regnamespace, 'public'::regnamespace)
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
$$;

-- A function "trusts the claims" when it reads request.jwt.claims or calls what does.
CREATE OR REPLACE FUNCTION tests.trusts_claims(p regprocedure)
RETURNS boolean
LANGUAGE sql
AS $$
    SELECT (SELECT p2.prosrc FROM pg_catalog.pg_proc AS p2 WHERE p2.oid = p)
        ~ '(request\.jwt\.claims|core\.(claims|claim_id|claim_email|current_user_id|require_user)\s*\()'
$$;

CREATE OR REPLACE FUNCTION tests.test_analysts_cannot_write_or_act_as_a_user()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(f::text, ', ') INTO bad
    FROM tests.own_functions() AS f
    INNER JOIN pg_catalog.pg_proc AS p ON f = p.oid
    WHERE pg_catalog.has_function_privilege('novara_analyst', f, 'EXECUTE')
        AND (p.provolatile = 'v' OR tests.trusts_claims(f))
        -- the audit's recorder writes their own read record and nothing else (docs/audit.md)
        AND f <> 'core.note_access(text, uuid)'::regprocedure;
    PERFORM tests.assert_eq(bad, NULL, 'functions analysts may execute that write or trust the claims');
    PERFORM tests.assert_true(
        NOT tests.trusts_claims('core.note_access(text, uuid)'::regprocedure), 'the recorder trusts no claims'
    );
    SELECT string_agg(c.oid::regclass::text || ' ' || x.priv, ', ') INTO bad
    FROM pg_catalog.pg_class AS c
    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS x (priv)
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        AND (pg_catalog.has_table_privilege('novara_analyst', c.oid, x.priv)
            OR (x.priv IN ('INSERT', 'UPDATE')
                AND pg_catalog.has_any_column_privilege('novara_analyst', c.oid, x.priv)));
    PERFORM tests.assert_eq(bad, NULL, 'analysts write');
    PERFORM tests.assert_true(NOT pg_catalog.pg_has_role('novara_analyst', 'novara_api', 'MEMBER'), 'analyst as api');
    PERFORM tests.assert_true(
        NOT pg_catalog.has_column_privilege('novara_analyst', 'public.users', 'email', 'SELECT'), 'emails'
    );
    PERFORM tests.assert_true(
        NOT pg_catalog.has_column_privilege('novara_analyst', 'public.user_profiles', 'nickname', 'SELECT'), 'nicknames'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_authenticator_holds_nothing_of_its_own()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    -- (pg_stat_statements' views, an extension's, keep its grant to PUBLIC: statistics, and other roles' query
    -- texts hidden from whoever is not pg_read_all_stats)
    SELECT string_agg(r::text, ', ') INTO bad
    FROM tests.own_relations() AS r
    WHERE pg_catalog.has_table_privilege('novara_authenticator', r, 'SELECT')
        OR pg_catalog.has_any_column_privilege('novara_authenticator', r, 'SELECT');
    PERFORM tests.assert_eq(bad, NULL, 'relations the authenticator reads without SET ROLE');
    SELECT string_agg(f::text, ', ') INTO bad
    FROM tests.own_functions() AS f
    WHERE pg_catalog.has_function_privilege('novara_authenticator', f, 'EXECUTE');
    PERFORM tests.assert_eq(bad, NULL, 'functions the authenticator executes without SET ROLE');
    PERFORM tests.assert_eq(
        (SELECT array_agg(g.rolname::text ORDER BY g.rolname)
         FROM pg_catalog.pg_roles AS g WHERE pg_catalog.pg_has_role('novara_authenticator', g.oid, 'MEMBER')
            AND g.rolname <> 'novara_authenticator'),
        ARRAY['novara_api'], 'the authenticator can become the gateway role only'
    );
    PERFORM tests.assert_eq(
        (SELECT (r.rolsuper, r.rolbypassrls, r.rolinherit, r.rolcreaterole, r.rolcreatedb)::text
         FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'novara_authenticator'),
        '(f,f,f,f,f)', 'authenticator attributes'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_gateway_role_writes_nothing_directly()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(c.oid::regclass::text || ' ' || x.priv, ', ') INTO bad
    FROM pg_catalog.pg_class AS c
    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS x (priv)
    WHERE c.relnamespace IN ('api'::regnamespace, 'core'::regnamespace, 'public'::regnamespace)
        AND c.relkind IN ('r', 'p', 'v', 'm')
        AND (pg_catalog.has_table_privilege('novara_api', c.oid, x.priv)
            OR (x.priv IN ('INSERT', 'UPDATE') AND pg_catalog.has_any_column_privilege('novara_api', c.oid, x.priv)));
    PERFORM tests.assert_eq(bad, NULL, 'direct writes of novara_api');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM pg_catalog.pg_roles AS g
         WHERE pg_catalog.pg_has_role('novara_api', g.oid, 'MEMBER') AND g.rolname <> 'novara_api'),
        0::bigint, 'novara_api can become no other role'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_functions_closed_to_public_and_search_path_pinned()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(f::text, ', ') INTO bad
    FROM tests.own_functions() AS f
    WHERE pg_catalog.has_function_privilege('public', f, 'EXECUTE');
    PERFORM tests.assert_eq(bad, NULL, 'functions PUBLIC may execute');
    SELECT string_agg(f::text, ', ') INTO bad
    FROM tests.own_functions() AS f
    INNER JOIN pg_catalog.pg_proc AS p ON f = p.oid
    WHERE p.prokind <> 'a'  -- an aggregate runs its support functions, which pin theirs
        AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c (setting) WHERE c.setting LIKE 'search\_path=%');
    PERFORM tests.assert_eq(bad, NULL, 'functions without a pinned search_path');
    PERFORM tests.assert_true(
        (SELECT count(*) FROM pg_catalog.pg_proc AS p WHERE p.prosecdef AND p.pronamespace = 'api'::regnamespace) > 30,
        'the SECURITY DEFINER functions were checked'
    );
END
$$;

-- Every per-user table (a user_id column, or users itself) enables and forces row-level security, and every
-- policy that trusts the claims applies to the identity-carrying roles only, never to PUBLIC.
CREATE OR REPLACE FUNCTION tests.test_per_user_tables_force_rls_and_claims_policies_are_scoped()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(c.relname, ', ') INTO bad
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        AND (c.relname = 'users' OR EXISTS (
            SELECT 1 FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
        ))
        AND NOT (c.relrowsecurity AND c.relforcerowsecurity);
    PERFORM tests.assert_eq(bad, NULL, 'per-user tables without forced row-level security');
    SELECT string_agg(p.tablename || '.' || p.policyname || ' to ' || p.roles::text, ', ') INTO bad
    FROM pg_catalog.pg_policies AS p
    WHERE p.schemaname = 'public'
        AND (coalesce(p.qual, '') || coalesce(p.with_check, '')) ~ '(claim|current_user_id)'
        AND NOT p.roles <@ ARRAY['novara_api', 'novara_definer']::name[];
    PERFORM tests.assert_eq(bad, NULL, 'policies trusting the claims for other roles');
END
$$;
