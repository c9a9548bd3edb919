-- Merging JSON objects in aggregate order, later keys winning (a check-in's fields from its events).

-- jsonb_concat_agg(x ORDER BY ...): later objects win key by key.
CREATE OR REPLACE AGGREGATE core.jsonb_concat_agg(jsonb) (  -- noqa: LT01
    SFUNC = pg_catalog.jsonb_concat,  -- noqa: CP05
    STYPE = jsonb,  -- noqa: CP05
    INITCOND = '{}'  -- noqa: CP05
);
COMMENT ON AGGREGATE core.jsonb_concat_agg(jsonb) IS  -- noqa: LT01
'Merge JSON objects in aggregate order; a later object''s keys replace earlier ones.';
