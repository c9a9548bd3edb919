-- GET /api/users/me/export: the caller's own data, all of it, as one document (GDPR articles 15 and 20).

CREATE OR REPLACE FUNCTION api.export_me(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
-- SECURITY DEFINER: see [definer] in db/README.md (row-level security admits the caller's rows only, so the
-- document can hold no other user's row whatever the query says).
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    doc jsonb := core.user_export(core.require_user());
BEGIN
    IF doc IS NULL THEN  -- the account went (erased) after the caller was identified in this transaction
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;
    RETURN jsonb_build_object('success', TRUE, 'export', doc);
END
$$;

ALTER FUNCTION api.export_me(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.export_me(jsonb) IS
'GET /api/users/me/export: {success, export: {user, profile, checkins, events, insights, engagement, feedback, '
'generated_at}}: every live check-in with every field, the whole event history (superseded and retracted events '
'included), insights, engagement and feedback of the caller only (core.user_export). NV401 without claims, NV404 '
'unknown user (e.g. after erasure).';
