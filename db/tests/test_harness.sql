-- The harness itself: migrations are applied in the template, and each helper fails when it should.

CREATE OR REPLACE FUNCTION tests.test_migrations_recorded()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_true(
        EXISTS (SELECT 1 FROM public.schema_migrations WHERE name = '0001_schemas_and_extensions'),
        'first migration recorded'
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.schema_migrations WHERE checksum !~ '^[0-9a-f]{64}$'), 0::bigint,
        'every checksum is a sha256'
    );
    PERFORM tests.assert_true(to_regnamespace('api') IS NOT NULL, 'api schema exists');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_helpers_fail_when_they_should()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_raises($q$SELECT tests.assert_eq(1, 2)$q$, 'NVT01', 'expected 2, got 1');
    PERFORM tests.assert_raises($q$SELECT tests.assert_true(false)$q$, 'NVT01');
    PERFORM tests.assert_raises($q$SELECT tests.assert_true(NULL)$q$, 'NVT01');
    PERFORM tests.assert_raises($q$SELECT tests.assert_json_eq('{"a":1}', '{"a":2}')$q$, 'NVT01');
    -- assert_raises itself fails on no error and on the wrong SQLSTATE
    PERFORM tests.assert_raises($q$SELECT tests.assert_raises('SELECT 1', '22012')$q$, 'NVT01', '%no error%');
    PERFORM tests.assert_raises(
        $q$SELECT tests.assert_raises('SELECT 1/0', '23505')$q$, 'NVT01', '%got 22012%'
    );
    PERFORM tests.assert_raises('SELECT 1/0', '22012', 'division by zero');
    PERFORM tests.assert_eq('{"a":[1,2]}'::jsonb, '{"a":[1,2]}'::jsonb);
END
$$;
