-- depends: functions/core_note_access.sql, views/user_daily_metrics.sql, views/user_weekly_metrics.sql
-- Analysts' reads of per-user data leave a record (docs/audit.md). The server has no pgaudit, so the record is
-- made on the analysts' own access path: each row-level policy that lets an analyst read a per-user table calls
-- core.note_access for the row's user (once per transaction, table and user lands in data_access_log). Views
-- over these tables are security_invoker, so reading them goes through the same policies.
ALTER POLICY users_analyst_read ON public.users USING (core.note_access('public.users', id));
ALTER POLICY user_profiles_analyst_read ON public.user_profiles
USING (core.note_access('public.user_profiles', user_id));
ALTER POLICY health_events_analyst_read ON public.health_events
USING (core.note_access('public.health_events', user_id));
ALTER POLICY live_checkins_analyst_read ON public.live_checkins
USING (core.note_access('public.live_checkins', user_id));
ALTER POLICY insights_analyst_read ON public.insights USING (core.note_access('public.insights', user_id));
ALTER POLICY daily_checkins_analyst_read ON public.daily_checkins
USING (core.note_access('public.daily_checkins', user_id));
ALTER POLICY legacy_checkin_changes_analyst_read ON public.legacy_checkin_changes
USING (core.note_access('public.legacy_checkin_changes', user_id));
ALTER POLICY insight_engagement_analyst_read ON public.insight_engagement
USING (core.note_access('public.insight_engagement', user_id));
ALTER POLICY insight_feedback_analyst_read ON public.insight_feedback
USING (core.note_access('public.insight_feedback', user_id));

-- Materialized views have no row-level security: analysts read the metrics snapshots through these views, whose
-- condition records each row's user the same way (security_barrier: the condition runs before any of the
-- reader's own, so no row reaches the reader unrecorded).
REVOKE SELECT ON public.user_daily_metrics, public.user_weekly_metrics FROM novara_analyst;

CREATE OR REPLACE VIEW public.analyst_daily_metrics
WITH (security_barrier = TRUE) AS
SELECT m.*
FROM public.user_daily_metrics AS m
WHERE core.note_access('public.user_daily_metrics', m.user_id);
COMMENT ON VIEW public.analyst_daily_metrics IS
'user_daily_metrics for analysts: the same rows, each read recorded in data_access_log (docs/audit.md).';
GRANT SELECT ON public.analyst_daily_metrics TO novara_analyst;

CREATE OR REPLACE VIEW public.analyst_weekly_metrics
WITH (security_barrier = TRUE) AS
SELECT m.*
FROM public.user_weekly_metrics AS m
WHERE core.note_access('public.user_weekly_metrics', m.user_id);
COMMENT ON VIEW public.analyst_weekly_metrics IS
'user_weekly_metrics for analysts: the same rows, each read recorded in data_access_log (docs/audit.md).';
GRANT SELECT ON public.analyst_weekly_metrics TO novara_analyst;
