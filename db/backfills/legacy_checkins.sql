-- depends: functions/core_backfill_legacy_checkins.sql, functions/core_sync_legacy_checkins.sql
-- The backfill of migration 0010 (docs/v1-v2-sync.md): rows of daily_checkins whose check-in has no events imported
-- into the event log, then the change log drained. A versioned migration cannot call it: on a
-- fresh database the repeatable files are applied after every versioned one. Backfills are applied after every
-- function and view, in the same transaction as them; this one runs again whenever it or a file it calls
-- changes, and with nothing pending it costs one anti-join (daily_checkins against the events' correlation index) and
-- one probe of the change log.
DO $$
BEGIN
    WHILE core.backfill_legacy_checkins(10000) > 0 LOOP
    END LOOP;
    WHILE core.sync_legacy_checkins(NULL, 10000) > 0 LOOP
    END LOOP;
END
$$;
