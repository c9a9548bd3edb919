-- PUT /api/users/password: set (first time) or change the signed-in user's password. The gateway replaces
-- new_password by its hash and current_password by the key derived with the stored salt (api.login_begin).

CREATE OR REPLACE FUNCTION api.change_password(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
-- SECURITY DEFINER: see [definer] in db/README.md
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    body jsonb := coalesce(args, '{}'::jsonb);
    uid uuid := core.require_user();
    v_new text := core.check_password_hash(body -> 'new_password_hash', 'new_password');
    v_key text :=
        CASE WHEN jsonb_typeof(body -> 'current_password_key') = 'string' THEN body ->> 'current_password_key' END;
    v_given boolean := coalesce(body -> 'current_password_given' = 'true'::jsonb, v_key IS NOT NULL);
    v_hash text;
    v_set_at timestamptz;
BEGIN
    IF v_new IS NULL THEN
        PERFORM core.fail(400, 'new_password is required', 'VALIDATION_ERROR', '{"field": "new_password"}');
    END IF;
    SELECT c.password_hash INTO v_hash FROM public.user_credentials AS c WHERE c.user_id = uid FOR UPDATE;
    IF v_hash IS NOT NULL THEN
        IF NOT v_given THEN
            PERFORM core.fail(400, 'current_password is required', 'VALIDATION_ERROR', '{"field": "current_password"}');
        ELSIF NOT core.password_matches(v_hash, v_key) THEN
            PERFORM core.fail(403, 'Current password is incorrect', 'INVALID_CREDENTIALS');
        END IF;
    END IF;

    INSERT INTO public.user_credentials AS c (user_id, password_hash) VALUES (uid, v_new)
    ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, set_at = now()
    RETURNING c.set_at INTO v_set_at;
    PERFORM core.login_succeeded(body -> 'attempt_id', (SELECT u.email FROM public.users AS u WHERE u.id = uid));

    RETURN jsonb_build_object(
        'success', TRUE,
        'message', CASE WHEN v_hash IS NULL THEN 'Password set successfully' ELSE 'Password changed successfully' END,
        'password_set_at', core.iso(v_set_at)
    );
END
$$;

ALTER FUNCTION api.change_password(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.change_password(jsonb) IS
'PUT /api/users/password: {new_password_hash, current_password_key?, attempt_id?} (the gateway hashes '
'new_password and derives the key of current_password) -> {success, message, password_set_at}. current_password '
'is required once a password is set. NV400 new_password is required / current_password is required / Invalid '
'password hash; NV401/NV404 token; NV403 Current password is incorrect (INVALID_CREDENTIALS).';
