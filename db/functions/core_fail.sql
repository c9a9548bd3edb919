-- Errors: one SQLSTATE per HTTP status, class NV (NV400, NV401, NV403, NV404, NV409, NV413, NV429, NV503).
-- The message is the contract's human message; DETAIL is a JSON object with the stable machine "code"
-- and any extra fields of the error body (e.g. "field", "existing_checkin"). The gateway maps the
-- SQLSTATE to the HTTP status and merges DETAIL into the body; psql users see the same.

CREATE OR REPLACE FUNCTION core.fail(status integer, message text, code text, details jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF status NOT IN (400, 401, 403, 404, 409, 413, 429, 503) THEN
        RAISE EXCEPTION 'core.fail: unsupported status %', status;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'NV' || status::text,
        MESSAGE = message,
        DETAIL = (jsonb_build_object('code', code) || coalesce(details, '{}'::jsonb))::text;
END
$$;

COMMENT ON FUNCTION core.fail(integer, text, text, jsonb) IS
'Raise the error for an HTTP status (SQLSTATE NV<status>) with the contract message and a JSON DETAIL '
'{"code": ..., extra fields}.';
