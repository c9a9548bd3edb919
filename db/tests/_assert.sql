-- SQL assertion helpers for db/tests (loaded into the test template, never into a real database).
-- A failed assertion raises SQLSTATE NVT01 with a message naming what differed; pytest reports it
-- with the file and test function.

CREATE SCHEMA IF NOT EXISTS tests;
COMMENT ON SCHEMA tests IS 'SQL tests and their assertion helpers (test databases only).';

CREATE OR REPLACE FUNCTION tests.fail(msg text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'NVT01', MESSAGE = coalesce(msg, 'assertion failed');
END
$$;

CREATE OR REPLACE FUNCTION tests.assert_true(cond boolean, msg text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        PERFORM tests.fail(coalesce(msg || ': ', '') || 'expected true, got ' || coalesce(cond::text, 'NULL'));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION tests.assert_eq(actual anyelement, expected anyelement, msg text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF actual IS DISTINCT FROM expected THEN
        PERFORM tests.fail(
            coalesce(msg || ': ', '') || 'expected ' || coalesce(expected::text, 'NULL')
            || ', got ' || coalesce(actual::text, 'NULL')
        );
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION tests.assert_json_eq(actual jsonb, expected jsonb, msg text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF actual IS DISTINCT FROM expected THEN
        PERFORM tests.fail(
            coalesce(msg || ': ', '') || 'expected ' || coalesce(expected::text, 'NULL')
            || E'\n       got ' || coalesce(actual::text, 'NULL')
        );
    END IF;
END
$$;

-- Run `stmt`; it must fail with SQLSTATE `sqlstate` (and, if given, a message matching LIKE `message_like`).
CREATE OR REPLACE FUNCTION tests.assert_raises(
    stmt text, sqlstate text, message_like text DEFAULT NULL, msg text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    got_state text;
    got_message text;
BEGIN
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS got_state = RETURNED_SQLSTATE, got_message = MESSAGE_TEXT;
    END;
    IF got_state IS NULL THEN
        PERFORM tests.fail(coalesce(msg || ': ', '') || 'expected SQLSTATE ' || sqlstate || ', no error from: ' || stmt);
    ELSIF got_state <> sqlstate THEN
        PERFORM tests.fail(
            coalesce(msg || ': ', '') || 'expected SQLSTATE ' || sqlstate || ', got ' || got_state
            || ' (' || got_message || ') from: ' || stmt
        );
    ELSIF message_like IS NOT NULL AND got_message NOT LIKE message_like THEN
        PERFORM tests.fail(
            coalesce(msg || ': ', '') || 'expected message like ' || quote_literal(message_like)
            || ', got ' || quote_literal(got_message)
        );
    END IF;
END
$$;

-- The error a statement raises: {"state", "message", "detail"}, or NULL when it raises nothing. A JSON
-- DETAIL (core.fail's) is parsed; any other non-empty DETAIL comes back as a JSON string.
CREATE OR REPLACE FUNCTION tests.error_of(stmt text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        RETURN jsonb_build_object(
            'state', st, 'message', msg,
            'detail', CASE WHEN det LIKE '{%' THEN det::jsonb WHEN det <> '' THEN to_jsonb(det) END
        );
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tests.error_of(text) IS
'The error `stmt` raises as {state, message, detail (JSON DETAIL parsed)}; NULL when it raises nothing.';
