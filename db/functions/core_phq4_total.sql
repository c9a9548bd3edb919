-- PHQ-4 total of one check-in's answers.

CREATE OR REPLACE FUNCTION core.phq4_total(fields jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN t.n > 0 THEN t.s
        WHEN jsonb_typeof(fields -> 'phq4_score') = 'number' THEN (fields ->> 'phq4_score')::numeric::integer
    END
    FROM (
        SELECT
            count(*) AS n,
            sum((fields ->> k.item)::numeric)::integer AS s
        FROM unnest(ARRAY['phq4_feeling_nervous', 'phq4_stop_worrying', 'phq4_little_interest', 'phq4_feeling_down'])
            AS k (item)
        WHERE jsonb_typeof(fields -> k.item) = 'number'
    ) AS t
$$;

COMMENT ON FUNCTION core.phq4_total(jsonb) IS
'PHQ-4 total (0-12) of a check-in''s fields: the sum of the four items answered (an unanswered item counts 0) '
'when at least one is answered, else phq4_score when given, else NULL.';
