-- depends: views/daily_checkins_legacy.sql, functions/core_legacy_checkin.sql
-- depends: functions/core_backfill_legacy_checkins.sql, functions/core_sync_legacy_checkins.sql
-- The backfill of migration 0010 (docs/v1-v2-sync.md). A versioned migration cannot call it: on a fresh
-- database the repeatable files (functions, views) are applied after every versioned one. This repeatable
-- file runs after what it calls (the depends line), whenever it or they change, in the same transaction as
-- them; with nothing pending it costs two anti-joins and one probe of the change log.
DO $$
BEGIN
    WHILE core.backfill_legacy_checkins(10000) > 0 LOOP
    END LOOP;
    WHILE core.sync_legacy_checkins(NULL, 10000) > 0 LOOP
    END LOOP;
END
$$;
