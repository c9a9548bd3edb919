-- depends: functions/core_check_value.sql
-- GET /api/checkins in both modes (api.list_checkins, api.v1_list_checkins): the limit it takes and the body it
-- answers; only where the rows come from differs.

CREATE OR REPLACE FUNCTION core.checkin_list_limit(args jsonb)
RETURNS integer
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(
        (core.check_value('limit', coalesce(args, '{}'::jsonb) -> 'limit', 'integer', 1, 100) #>> '{}')::integer,
        30
    )
$$;

COMMENT ON FUNCTION core.checkin_list_limit(jsonb) IS
'args.limit of GET /api/checkins: an integer 1-100 (integer strings accepted), default 30; NV400 otherwise.';

CREATE OR REPLACE FUNCTION core.checkin_list_body(p_items jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'success', TRUE, 'records', p_items, 'checkins', p_items, 'count', jsonb_array_length(p_items)
    )
$$;

COMMENT ON FUNCTION core.checkin_list_body(jsonb) IS
'{success, records, checkins, count} of GET /api/checkins: records and checkins are the same item list.';
