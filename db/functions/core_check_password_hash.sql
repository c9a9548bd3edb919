-- Password hashes (computed by the gateway; the database has no pgcrypto): the format a hash in a request must
-- have. See docs/accounts.md.

-- A password hash sent in a request body (by the gateway, which replaced the password with it): NULL when
-- absent or null; otherwise it must be scrypt$N$r$p$salt$key with N a power of two in 2^10..2^20, r 1..32,
-- p 1..16, else NV400 naming p_field (only a psql caller or a broken gateway can send a malformed one).
CREATE OR REPLACE FUNCTION core.check_password_hash(p_value jsonb, p_field text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    v_hash text;
    v_n bigint;
    v_r integer;
    v_p integer;
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_value) = 'string' THEN
        v_hash := p_value #>> '{}';
        IF v_hash ~ '^scrypt\$[0-9]{1,8}\$[0-9]{1,3}\$[0-9]{1,3}\$[A-Za-z0-9+/]{16,88}={0,2}\$[A-Za-z0-9+/]{43,88}={0,2}$'
        THEN
            v_n := split_part(v_hash, '$', 2)::bigint;
            v_r := split_part(v_hash, '$', 3)::integer;
            v_p := split_part(v_hash, '$', 4)::integer;
            IF v_n BETWEEN 1024 AND 1048576 AND (v_n & (v_n - 1)) = 0 AND v_r BETWEEN 1 AND 32 AND v_p BETWEEN 1 AND 16
            THEN
                RETURN v_hash;
            END IF;
        END IF;
    END IF;
    -- Never echo the value: it is (a hash of) a secret.
    PERFORM core.fail(400, 'Invalid password hash', 'VALIDATION_ERROR', jsonb_build_object('field', p_field));
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION core.check_password_hash(jsonb, text) IS
'A scrypt hash string from a request body (scrypt$N$r$p$salt$key, N a power of two in 2^10..2^20, r 1..32, '
'p 1..16), or NULL when absent/null. NV400 Invalid password hash naming p_field; the value is never echoed.';
