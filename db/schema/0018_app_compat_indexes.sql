-- migrate: no-transaction
-- The indexes behind 0017, built without blocking writes (each statement may be re-run from the top).
--
-- insights_daily_inputs: one daily insight per user, local day and inputs (two concurrent first requests
-- with the same inputs insert one row); it replaces insights_one_daily_per_day (one per day), which 0019 drops
-- together with the functions that stop using it.
-- insight_feedback_one_per_client_ref: one feedback row per user and client reference (a later answer
-- replaces the earlier, as for a linked insight).
-- health_events_user_position: the user's latest event (core.daily_insight_inputs) in one index probe.
-- And the check added NOT VALID by 0017, validated here without blocking reads.

DROP INDEX CONCURRENTLY IF EXISTS public.insights_daily_inputs;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS insights_daily_inputs
ON public.insights (user_id, local_date, inputs_fingerprint) WHERE category = 'daily';
COMMENT ON INDEX public.insights_daily_inputs IS
'One daily insight per user, local day and inputs fingerprint: the race guard of api.daily_insight.';

DROP INDEX CONCURRENTLY IF EXISTS public.insight_feedback_one_per_client_ref;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS insight_feedback_one_per_client_ref
ON public.insight_feedback (user_id, client_ref) WHERE client_ref IS NOT NULL;
COMMENT ON INDEX public.insight_feedback_one_per_client_ref IS
'One feedback row per user and client reference of an insight (the latest answer wins).';

DROP INDEX CONCURRENTLY IF EXISTS public.health_events_user_position;
CREATE INDEX CONCURRENTLY IF NOT EXISTS health_events_user_position
ON public.health_events (user_id, position);
COMMENT ON INDEX public.health_events_user_position IS
'The latest event of a user (max position) in one probe: the fingerprint of the daily insight''s inputs.';

-- Validating a validated constraint does nothing, so the file stays safe to re-run from the top.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.insight_feedback VALIDATE CONSTRAINT insight_feedback_names_insight;
