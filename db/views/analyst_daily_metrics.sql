-- depends: views/user_daily_metrics.sql
-- user_daily_metrics for analysts, each read recorded (docs/audit.md). Materialized views have no row-level
-- security: analysts lose their direct SELECT on the snapshot and read it here, behind a condition that records
-- each row's user through core.note_access (0030) as the analysts' policies do (security_barrier: the condition
-- runs before any of the reader's own, so no row reaches the reader unrecorded).
REVOKE SELECT ON public.user_daily_metrics FROM novara_analyst;

CREATE OR REPLACE VIEW public.analyst_daily_metrics
WITH (security_barrier = TRUE) AS
SELECT m.*
FROM public.user_daily_metrics AS m
WHERE core.note_access('public.user_daily_metrics', m.user_id);
COMMENT ON VIEW public.analyst_daily_metrics IS
'user_daily_metrics for analysts: the same rows, each read recorded in data_access_log (docs/audit.md).';
GRANT SELECT ON public.analyst_daily_metrics TO novara_analyst;
