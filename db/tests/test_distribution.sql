-- The rules a Citus distribution by user (docs/scale-out.md) relies on, read from the catalog: a table that breaks
-- one could not be distributed, or would lose a guarantee, the day the database is sharded by user_id.
--
-- - Every table of public is classified: per-user (a user_id column; users itself, by id), reference (small,
--   replicated to every node: listed in tests.reference_tables) or coordinator-local (listed with the reason).
-- - Every primary key and unique index of a per-user table contains the distribution column: Citus enforces
--   uniqueness only within a shard.
-- - Every foreign key between per-user tables includes the distribution column on both sides (co-located rows
--   only); no foreign key from a reference or local table to a per-user one; a per-user table references only
--   per-user or reference tables.
-- - Reference tables are small (replicated in full to every node, written with a lock on all of them).
-- - No sequence feeds a column of a per-user table: each Citus node draws from its own range, so such numbers are
--   unique but neither dense nor ordered across nodes.
--
-- What breaks a rule today is listed once, in tests.distribution_exceptions, each with the reason it is accepted
-- and what the distribution does about it; a listed exception that no longer occurs fails too (stale list).

-- The reference tables: registries and rules, the same for every user. The one list.
CREATE OR REPLACE FUNCTION tests.reference_tables()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT ARRAY[
        'public.timezones', 'public.event_types', 'public.mood_scores', 'public.checkin_fields',
        'public.insight_rules', 'public.checkin_focus_dimensions', 'public.checkin_questions',
        'public.login_limits', 'public.profile_fields'
    ]
$$;

-- Tables neither per-user nor reference: they stay on the coordinator (Citus "local tables").
CREATE OR REPLACE FUNCTION tests.local_tables()
RETURNS TABLE (rel text, reason text)
LANGUAGE sql
IMMUTABLE
AS $$
    VALUES
    ('public.schema_migrations', 'the migrator''s bookkeeping: DDL runs on the coordinator, which propagates it'),
    ('public.metrics_refresh_log', 'one row per refresh of the snapshots, written by the coordinator''s cron'),
    ('public.erasure_log', 'holds no user id (a hash), so it cannot be co-located; written once per erasure'),
    ('public.login_attempts', 'keyed by email and client before any user is known (login throttling)'),
    (
        'public.data_access_log',
        'the audit of analysts'' cross-user reads, which run through the coordinator; keyed by subject_id, not '
        || 'user_id: distributable by subject_id later with (subject_id, id) as its key'
    )
$$;

-- What breaks a rule today, accepted: (table, object, reason).
CREATE OR REPLACE FUNCTION tests.distribution_exceptions()
RETURNS TABLE (rel text, object text, reason text)
LANGUAGE sql
IMMUTABLE
AS $$
    VALUES
    (
        'public.users', 'users_email_key',
        'one account per email across all users: under Citus a lookup table distributed by email (email -> id), '
        || 'written in the sign-up transaction, takes over this uniqueness'
    ),
    (
        'public.health_events', 'health_events_pkey',
        'id is gen_random_uuid(): unique without a global index; the key becomes (user_id, id) when distributed'
    ),
    (
        'public.health_events', 'health_events_position_key',
        'position is global (below); unique per node under Citus, replaced by (user_id, position)'
    ),
    (
        'public.health_events', 'health_events_superseded_once',
        'each event superseded once: becomes (user_id, related_event_id), the superseding event is the user''s'
    ),
    (
        'public.health_events', 'health_events_related_event_id_fkey',
        'a correction names an event of the same user (api.create_event checks it): becomes (user_id, '
        || 'related_event_id) -> (user_id, id)'
    ),
    (
        'public.health_events', 'sequence on position',
        'a checkpoint and tie-breaker in the user''s order; Citus gives each node its own range of a bigint '
        || 'identity, so positions stay unique and increase per node but a shard moved to another node may continue '
        || 'below its earlier positions (docs/scale-out.md, "position")'
    ),
    (
        'public.legacy_checkin_changes', 'legacy_checkin_changes_pkey',
        'the change log of V1-mode writes, keyed by a global position: (user_id, position) when distributed'
    ),
    (
        'public.legacy_checkin_changes', 'sequence on position',
        'imported per user in position order; per-node ranges keep each user''s order while the shard stays put, '
        || 'and the log is empty once V1 mode is gone'
    ),
    (
        'public.insights', 'insights_pkey',
        'id is gen_random_uuid(): the key becomes (user_id, id) when distributed'
    ),
    (
        'public.daily_checkins', 'daily_checkins_pkey',
        'id is gen_random_uuid(): the key becomes (user_id, id) when distributed'
    ),
    (
        'public.insight_engagement', 'insight_engagement_pkey',
        'id is gen_random_uuid(): the key becomes (user_id, id) when distributed'
    ),
    (
        'public.insight_engagement', 'insight_engagement_insight_id_fkey',
        'an engagement links only the caller''s own insight (core.insight_reference looks it up under RLS): '
        || 'becomes (user_id, insight_id) -> (user_id, id)'
    ),
    (
        'public.insight_feedback', 'insight_feedback_pkey',
        'id is gen_random_uuid(): the key becomes (user_id, id) when distributed'
    ),
    (
        'public.insight_feedback', 'insight_feedback_insight_id_fkey',
        'as insight_engagement''s: becomes (user_id, insight_id) -> (user_id, id)'
    )
$$;

-- Every breach of a rule: (table, object, rule).
CREATE OR REPLACE FUNCTION tests.distribution_violations()
RETURNS TABLE (rel text, object text, rule text)
LANGUAGE sql
STABLE
AS $$
    WITH tables AS (
        SELECT
            c.oid,
            'public.' || c.relname::text AS rel,
            CASE
                WHEN c.oid = 'public.users'::regclass THEN 'id'
                WHEN EXISTS (
                    SELECT 1 FROM pg_catalog.pg_attribute AS a
                    WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
                ) THEN 'user_id'
            END AS dist
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ),

    classified AS (
        SELECT
            t.oid,
            t.rel,
            t.dist,
            a.attnum AS dist_attnum,
            CASE
                WHEN t.dist IS NOT NULL THEN 'per-user'
                WHEN t.rel = ANY(tests.reference_tables()) THEN 'reference'
                WHEN t.rel IN (SELECT l.rel FROM tests.local_tables() AS l) THEN 'local'
            END AS kind
        FROM tables AS t
        LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attname = t.dist
    )

    -- every table classified, once
    SELECT c.rel, '(table)', 'neither per-user nor a listed reference or local table'
    FROM classified AS c WHERE c.kind IS NULL
    UNION ALL
    SELECT c.rel, '(table)', 'per-user table listed as reference or local'
    FROM classified AS c
    WHERE
        c.kind = 'per-user'
        AND (c.rel = ANY(tests.reference_tables()) OR c.rel IN (SELECT l.rel FROM tests.local_tables() AS l))
    UNION ALL
    -- primary keys and unique indexes of per-user tables contain the distribution column
    SELECT c.rel, x.relname::text, 'unique without the distribution column'
    FROM classified AS c
    INNER JOIN pg_catalog.pg_index AS i ON i.indrelid = c.oid
    INNER JOIN pg_catalog.pg_class AS x ON x.oid = i.indexrelid
    WHERE c.kind = 'per-user' AND i.indisunique AND NOT c.dist_attnum = ANY(i.indkey::smallint[])
    UNION ALL
    -- foreign keys
    SELECT c.rel, k.conname::text, CASE
        WHEN f.kind = 'per-user' AND c.kind = 'per-user' THEN 'foreign key between per-user tables without the '
            || 'distribution column on both sides'
        WHEN f.kind = 'per-user' THEN 'foreign key from a ' || coalesce(c.kind, 'unclassified') || ' table to a '
            || 'per-user table'
        ELSE 'foreign key from a per-user table to a ' || coalesce(f.kind, 'unclassified') || ' table'
    END
    FROM classified AS c
    INNER JOIN pg_catalog.pg_constraint AS k ON k.conrelid = c.oid AND k.contype = 'f'
    INNER JOIN classified AS f ON f.oid = k.confrelid
    WHERE
        (c.kind = 'per-user' AND f.kind = 'per-user' AND NOT EXISTS (
            SELECT 1 FROM unnest(k.conkey, k.confkey) AS p (col, fcol)
            WHERE p.col = c.dist_attnum AND p.fcol = f.dist_attnum
        ))
        OR (c.kind IS DISTINCT FROM 'per-user' AND f.kind = 'per-user')
        OR (c.kind = 'per-user' AND f.kind IS DISTINCT FROM 'per-user' AND f.kind IS DISTINCT FROM 'reference')
    UNION ALL
    -- reference tables are small
    SELECT c.rel, '(size)', 'reference table over 8 MB'
    FROM classified AS c
    WHERE c.kind = 'reference' AND pg_catalog.pg_total_relation_size(c.oid) > 8 * 1024 * 1024
    UNION ALL
    -- no sequence feeds a per-user table's column (identity, serial, or a default calling nextval)
    SELECT c.rel, 'sequence on ' || a.attname, 'a sequence shared across users'
    FROM classified AS c
    INNER JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE
        c.kind = 'per-user'
        AND (a.attidentity <> '' OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%')
$$;

CREATE OR REPLACE FUNCTION tests.test_the_schema_can_be_distributed_by_user()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(v.rel || ' ' || v.object || ': ' || v.rule, E'\n' ORDER BY v.rel, v.object) INTO bad
    FROM tests.distribution_violations() AS v
    WHERE NOT EXISTS (SELECT 1 FROM tests.distribution_exceptions() AS x WHERE x.rel = v.rel AND x.object = v.object);
    PERFORM tests.assert_eq(bad, NULL, 'breaks a rule of the distribution by user, and is not a listed exception');

    SELECT string_agg(x.rel || ' ' || x.object, ', ') INTO bad
    FROM tests.distribution_exceptions() AS x
    WHERE NOT EXISTS (SELECT 1 FROM tests.distribution_violations() AS v WHERE v.rel = x.rel AND v.object = x.object);
    PERFORM tests.assert_eq(bad, NULL, 'listed exceptions that no longer occur (remove them)');

    SELECT string_agg(l.rel, ', ') INTO bad
    FROM tests.local_tables() AS l
    WHERE to_regclass(l.rel) IS NULL;
    PERFORM tests.assert_eq(bad, NULL, 'listed local tables that do not exist');
    SELECT string_agg(r, ', ') INTO bad
    FROM unnest(tests.reference_tables()) AS r
    WHERE to_regclass(r) IS NULL;
    PERFORM tests.assert_eq(bad, NULL, 'listed reference tables that do not exist');
END
$$;

-- The rules are not vacuous: a new per-user table that breaks each of them is reported, rule by rule.
CREATE OR REPLACE FUNCTION tests.test_a_table_breaking_the_rules_is_reported()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    found text[];
BEGIN
    CREATE TABLE public.tmp_per_user (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES public.users (id),
        event_id uuid REFERENCES public.health_events (id),
        code text UNIQUE
    );
    CREATE TABLE public.tmp_unlisted (x integer);
    CREATE TABLE public.tmp_log (user_ref uuid REFERENCES public.users (id));
    SELECT array_agg(v.rel || ' ' || v.object || ': ' || v.rule ORDER BY v.rel, v.object) INTO found
    FROM tests.distribution_violations() AS v
    WHERE v.rel LIKE 'public.tmp\_%';
    PERFORM tests.assert_eq(found, ARRAY[
        'public.tmp_log (table): neither per-user nor a listed reference or local table',
        'public.tmp_log tmp_log_user_ref_fkey: foreign key from a unclassified table to a per-user table',
        'public.tmp_per_user sequence on id: a sequence shared across users',
        'public.tmp_per_user tmp_per_user_code_key: unique without the distribution column',
        'public.tmp_per_user tmp_per_user_event_id_fkey: foreign key between per-user tables without the distribution '
        || 'column on both sides',
        'public.tmp_per_user tmp_per_user_pkey: unique without the distribution column',
        'public.tmp_unlisted (table): neither per-user nor a listed reference or local table'
    ], 'what the rules report');
END
$$;
