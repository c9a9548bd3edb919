-- The profile_fields registry is the one rule for profile fields: core.apply_profile validates by it, the API
-- document is built from it, and the table's CHECK constraints (the storage guarantee) accept exactly what it
-- lists: every bound holds at the edge and fails one past it, every accepted value is stored, and the enum
-- constraints list the same values.

-- Store `value` in column `field` of a profile, directly (no function): the CHECK constraints decide. Returns
-- the SQLSTATE of the failure, or NULL when it was stored (rolled back either way).
CREATE OR REPLACE FUNCTION tests.pf_store(uid uuid, field text, value text)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
    BEGIN
        -- an untyped literal takes the column's type, as a client's value would
        EXECUTE format('UPDATE public.user_profiles SET %I = %L WHERE user_id = %L', field, value, uid);
        RAISE EXCEPTION USING ERRCODE = 'NVT99';  -- undo the stored value
    EXCEPTION WHEN sqlstate 'NVT99' THEN
        RETURN NULL;
    WHEN OTHERS THEN
        RETURN SQLSTATE;
    END;
END
$$;

CREATE OR REPLACE FUNCTION tests.test_check_constraints_accept_what_the_registry_lists()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('pf@example.com');
    f record;
    v text;
    listed text[];
BEGIN
    FOR f IN SELECT * FROM public.profile_fields ORDER BY position LOOP
        IF f.max_length IS NOT NULL AND f.kind = 'string' THEN
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, repeat('x', f.max_length)), NULL, f.field || ' at max');
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, repeat('x', f.max_length + 1)), '23514', f.field);
        END IF;
        IF f.kind = 'integer' THEN
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, f.min_value::text), NULL, f.field || ' at min');
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, f.max_value::text), NULL, f.field || ' at max');
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, (f.min_value - 1)::text), '23514', f.field);
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, (f.max_value + 1)::text), '23514', f.field);
        END IF;
        IF f.kind = 'enum' THEN
            FOREACH v IN ARRAY f.allowed LOOP
                PERFORM tests.assert_eq(tests.pf_store(uid, f.field, v), NULL, f.field || ' ' || v);
            END LOOP;
            PERFORM tests.assert_eq(tests.pf_store(uid, f.field, 'not-a-value'), '23514', f.field);
            -- the constraint's own list, in its order
            SELECT array_agg(m[1] ORDER BY ord) INTO listed
            FROM pg_catalog.pg_constraint AS c,
                regexp_matches(pg_catalog.pg_get_constraintdef(c.oid), '''([^'']*)''::text', 'g')
                WITH ORDINALITY AS x (m, ord)
            WHERE c.conrelid = 'public.user_profiles'::regclass AND c.conname = 'user_profiles_' || f.field || '_check';
            PERFORM tests.assert_eq(listed, f.allowed, f.field || ': CHECK and registry list the same values');
        END IF;
    END LOOP;
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.profile_fields WHERE kind IN ('integer', 'enum', 'string')), 9::bigint,
        'every bounded field was checked'
    );
END
$$;

-- Every column of user_profiles a client may set is in the registry, and nothing else is.
CREATE OR REPLACE FUNCTION tests.test_registry_names_the_settable_columns()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.assert_eq(
        (SELECT array_agg(a.attname::text ORDER BY a.attname)
         FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid = 'public.user_profiles'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             AND a.attname NOT IN (
                 'user_id', 'created_at', 'updated_at', 'cycle_stage_updated', 'medication_status_updated'
             )),
        (SELECT array_agg(f.field ORDER BY f.field) FROM public.profile_fields AS f)
    );
END
$$;

-- api.update_me validates by the registry: a changed bound changes what is accepted, with no code change.
CREATE OR REPLACE FUNCTION tests.test_apply_profile_follows_the_registry()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.make_user('pf2@example.com');
    PERFORM tests.assert_eq(api.update_me('{"primary_need": "abcdef"}') #>> '{user,primary_need}', 'abcdef');
    UPDATE public.profile_fields SET max_length = 5 WHERE field = 'primary_need';
    PERFORM tests.assert_raises(
        $q$SELECT api.update_me('{"primary_need": "abcdef"}')$q$, 'NV400', 'primary_need must be at most 5 characters'
    );
    UPDATE public.profile_fields SET max_length = 3 WHERE field = 'nickname';
    PERFORM tests.assert_raises(
        $q$SELECT api.update_me('{"nickname": "  Anna  "}')$q$, 'NV400', 'Nickname too long (max 3 characters)'
    );
END
$$;
