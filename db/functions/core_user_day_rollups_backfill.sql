-- The backfill of the rollups (migration 0050): every user-day of the log that has no row yet, computed from its
-- events. Set-based, and safe beside the writes: a day that a write inserted meanwhile is the write's (computed
-- under the same rule, the write's events included) and stays as it is (ON CONFLICT DO NOTHING); a write to a day
-- inserted here waits for this transaction and adds to its row.

CREATE OR REPLACE FUNCTION core.user_day_rollups_backfill(p_user_ids uuid[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO public.user_day_rollups
    SELECT f.*
    FROM public.user_day_rollups_from_log AS f
    WHERE
        (p_user_ids IS NULL OR f.user_id = ANY (p_user_ids))
        AND NOT EXISTS (
            SELECT 1 FROM public.user_day_rollups AS r WHERE r.user_id = f.user_id AND r.date = f.date
        )
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION core.user_day_rollups_backfill(uuid[]) IS
'Insert the rollup of every user-day of the log (of the users p_user_ids, or all) that has none yet '
'(user_day_rollups_from_log); returns how many. Days that already have a row are left as they are: the writes '
'keep them. Run by the backfill after migration 0050 and by the benchmark''s loader, whose bulk writes bypass the '
'trigger.';
