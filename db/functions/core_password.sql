-- Password hashes (computed by the gateway; the database has no pgcrypto): reading their scrypt parameters back,
-- and comparing a derived key with the stored one. See docs/accounts.md.

-- What the gateway needs to derive a key from a password typed at login: the stored hash without its key.
CREATE OR REPLACE FUNCTION core.password_kdf(p_hash text)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN p_hash IS NOT NULL THEN jsonb_build_object(
        'algorithm', 'scrypt',
        'n', split_part(p_hash, '$', 2)::bigint,
        'r', split_part(p_hash, '$', 3)::integer,
        'p', split_part(p_hash, '$', 4)::integer,
        'salt', split_part(p_hash, '$', 5)
    ) END
$$;

COMMENT ON FUNCTION core.password_kdf(text) IS
'{algorithm: "scrypt", n, r, p, salt (base64)} of a stored hash (never its key), or NULL for NULL.';

-- Does a key the gateway derived (base64) match the stored hash's key? Compared through SHA-256, so the
-- comparison's timing says nothing about how many leading characters of the stored key matched.
CREATE OR REPLACE FUNCTION core.password_matches(p_hash text, p_key text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(
        p_hash IS NOT NULL AND p_key IS NOT NULL
        AND sha256(convert_to(split_part(p_hash, '$', 6), 'UTF8')) = sha256(convert_to(p_key, 'UTF8')),
        FALSE
    )
$$;

COMMENT ON FUNCTION core.password_matches(text, text) IS
'True when p_key (base64 scrypt output the gateway derived with the stored parameters and salt) equals the '
'stored hash''s key; false for any NULL.';
