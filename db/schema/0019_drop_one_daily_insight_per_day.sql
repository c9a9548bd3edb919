-- migrate: with-functions
-- The daily insight is stored once per inputs, no longer once per day: the old unique index goes, in the same
-- transaction as the api.daily_insight that stops needing it (the old one upserts ON CONFLICT on this index,
-- so dropping it earlier would fail the requests still running the old function). A concurrent drop cannot run
-- in a transaction; this one holds the insights table for the few milliseconds the drop takes, under the
-- migrator's lock_timeout and retries like every migration.
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX IF EXISTS public.insights_one_daily_per_day;
