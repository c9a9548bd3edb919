-- A DBA's copy of one user's data (a request made by mail, a regulator's): the same document as
-- GET /api/users/me/export, and a record of the read in data_access_log.

CREATE OR REPLACE FUNCTION core.export_user(p_user_id uuid, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    prior_claims text := coalesce(current_setting('request.jwt.claims', true), '');
    doc jsonb;
BEGIN
    -- Name the user in the claims, so row-level security (forced, even for a table owner) shows its rows.
    PERFORM set_config('request.jwt.claims', jsonb_build_object('id', p_user_id)::text, true);
    doc := core.user_export(p_user_id);
    PERFORM set_config('request.jwt.claims', prior_claims, true);
    IF doc IS NULL THEN
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;
    INSERT INTO public.data_access_log (reader, reader_role, subject_id, relation, via)
    VALUES (
        session_user, current_setting('role'), p_user_id, 'core.export_user',
        'core.export_user' || coalesce(': ' || left(p_reason, 200), '')
    )
    -- the arbiter is data_access_log_once, the one unique key besides the id (naming it would need SELECT)
    ON CONFLICT DO NOTHING;
    RETURN jsonb_build_object('success', TRUE, 'export', doc);
END
$$;

REVOKE ALL ON FUNCTION core.export_user(uuid, text) FROM public, novara_api, novara_definer, novara_analyst;

COMMENT ON FUNCTION core.export_user(uuid, text) IS
'A DBA''s export of one user''s data (DBAs only, like core.erase_user: not executable by novara_api, '
'novara_definer or analysts): {success, export} as GET /api/users/me/export returns it (core.user_export), and a '
'data_access_log row (reader, user, via core.export_user and the reason). NV404 unknown user.';
