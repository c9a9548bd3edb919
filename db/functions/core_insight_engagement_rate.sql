-- How often a user engaged with the insights of a period (GET /api/users/metrics, the engagement summary).

CREATE OR REPLACE FUNCTION core.insight_engagement_rate(p_user_id uuid, p_start date, p_end date)
RETURNS integer
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT round(100.0 * count(*) FILTER (WHERE EXISTS (
        SELECT 1
        FROM public.insight_engagement AS g
        WHERE g.insight_id = i.id AND g.user_id = p_user_id AND g.action <> 'dismissed'
    )) / nullif(count(*), 0))::integer
    FROM public.insights AS i
    WHERE i.user_id = p_user_id AND i.local_date BETWEEN p_start AND p_end
$$;

COMMENT ON FUNCTION core.insight_engagement_rate(uuid, date, date) IS
'Percent (integer) of the user''s insights of local days p_start..p_end that have at least one engagement row '
'other than dismissed; NULL when no insight was delivered in that period.';
