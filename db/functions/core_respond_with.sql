-- The HTTP status of a function's answer when it is not the route's usual one, said beside the body (as
-- PostgREST's response.status): the gateway passes the body to the client untouched and reads the status from
-- this transaction-local setting, so nothing in the body has to be parsed or removed.

CREATE OR REPLACE FUNCTION core.respond_with(p_status integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM set_config('response.status', p_status::text, TRUE);
END
$$;

COMMENT ON FUNCTION core.respond_with(integer) IS
'Set this transaction''s response.status (read by the gateway after the call): the answer''s HTTP status when it '
'is not the route''s own, e.g. 200 for an idempotent replay of a 201 route.';
