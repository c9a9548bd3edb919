CREATE OR REPLACE FUNCTION core.mood_score(mood text)
RETURNS numeric
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT round(avg(s.score), 2)
    FROM regexp_split_to_table(lower(coalesce(mood, '')), '\s*,\s*') AS w (word)
    INNER JOIN public.mood_scores AS s ON s.word = btrim(w.word)
$$;
COMMENT ON FUNCTION core.mood_score(text) IS
'Score 1-10 of a mood value: the mean of its known comma-separated words (mood_scores); NULL if none known.';

-- The score of the daily metrics (stored in user_day_rollups when a day changes): whoever reads the metrics may
-- score a mood the same way.
GRANT EXECUTE ON FUNCTION core.mood_score(text) TO novara_api, novara_definer, novara_analyst;
