-- depends: views/user_weekly_metrics.sql
-- user_weekly_metrics for analysts, each read recorded (docs/audit.md): as views/analyst_daily_metrics.sql.
REVOKE SELECT ON public.user_weekly_metrics FROM novara_analyst;

CREATE OR REPLACE VIEW public.analyst_weekly_metrics
WITH (security_barrier = TRUE) AS
SELECT m.*
FROM public.user_weekly_metrics AS m
WHERE core.note_access('public.user_weekly_metrics', m.user_id);
COMMENT ON VIEW public.analyst_weekly_metrics IS
'user_weekly_metrics for analysts: the same rows, each read recorded in data_access_log (docs/audit.md).';
GRANT SELECT ON public.analyst_weekly_metrics TO novara_analyst;
