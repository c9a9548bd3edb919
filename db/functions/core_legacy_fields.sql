-- The legacy table public.daily_checkins as the V1 API sees it (docs/v1-v2-sync.md): the fields of a row,
-- whoever wrote it.

-- The fields of a legacy row: "fields" when the V1 functions or the V2 dual write stored it; else derived from
-- the row: extra_fields, then every answer column that is not null (a column this schema does not know, e.g. a
-- real deployment's extra column, is an extra too); medication_taken 'not tracked' is the column default and
-- means "not answered".
CREATE OR REPLACE FUNCTION core.legacy_fields(d public.daily_checkins)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(
        d.fields,
        coalesce(d.extra_fields, '{}'::jsonb) || coalesce((
            SELECT jsonb_object_agg(c.key, c.value)
            FROM jsonb_each(
                to_jsonb(d) - ARRAY[
                    'id', 'user_id', 'date_submitted', 'checkin_type', 'created_at', 'updated_at', 'extra_fields',
                    'fields'
                ]
            ) AS c
            WHERE c.value <> 'null'::jsonb AND NOT (c.key = 'medication_taken' AND c.value = '"not tracked"'::jsonb)
        ), '{}'::jsonb)
    )
$$;

COMMENT ON FUNCTION core.legacy_fields(public.daily_checkins) IS
'The V1 fields of a daily_checkins row: its "fields" column, or when NULL (another writer) extra_fields merged '
'with every non-null answer column (unknown columns included; medication_taken ''not tracked'' omitted).';
