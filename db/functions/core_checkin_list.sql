-- depends: functions/core_check_value.sql
-- GET /api/checkins in both modes (api.list_checkins, api.v1_list_checkins): the check-ins' read model,
-- daily_checkins, read by its unique (user_id, date_submitted) index.

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

CREATE OR REPLACE FUNCTION core.checkin_list(p_user_id uuid, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    lim integer := core.checkin_list_limit(p_args);
    records jsonb;
    checkins jsonb;
BEGIN
    -- Each check-in's row is built once and carried once per list: records hold {id, fields: row} (the app's
    -- scripts read fields), checkins the row itself (its checklist reads it flat). Dates are unique per user, so
    -- the index gives the order and the limit stops the scan. A row's fields are its "fields" column unless a
    -- writer left it NULL (core.legacy_fields, called only then: a tenth of the list's time otherwise).
    SELECT
        coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'fields', x.r) ORDER BY x.date_submitted DESC), '[]'),
        coalesce(jsonb_agg(x.r ORDER BY x.date_submitted DESC), '[]')
    INTO records, checkins
    FROM (
        SELECT
            d.id,
            d.date_submitted,
            core.checkin_row(d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type,
                coalesce(d.fields, core.legacy_fields(d))) AS r
        FROM public.daily_checkins AS d
        WHERE d.user_id = p_user_id
        ORDER BY d.date_submitted DESC
        LIMIT lim
    ) AS x;
    RETURN jsonb_build_object(
        'success', TRUE, 'records', records, 'checkins', checkins, 'count', jsonb_array_length(checkins)
    );
END
$$;

COMMENT ON FUNCTION core.checkin_list(uuid, jsonb) IS
'{success, records, checkins, count} of GET /api/checkins for the user''s check-ins (daily_checkins), newest '
'date_submitted first, args.limit of them (core.checkin_list_limit): the same check-ins in both lists, a records '
'item {id, fields: row}, a checkins item the row flat (core.checkin_row); no item carries the row twice.';
