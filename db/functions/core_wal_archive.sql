-- What tells that backups (or a standby) fall behind, read from the server's own statistics: each physical
-- replication slot (Barman's WAL stream `barman`, Patroni's standbys) and the WAL it holds back, and the archiver
-- for set-ups that use archive_command. One definition for the gateway's /metrics and `novara monitor`
-- (core.monitoring); docs/operations.md, "What alerts when the archive falls behind", gives the alert rules.
-- The statistics views are readable by every role, so the gateway's role may call it.

CREATE OR REPLACE FUNCTION core.wal_archive()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    SELECT jsonb_build_object(
        'slots', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'slot', s.slot_name,
                'active', s.active,
                -- on a standby, the position it has replayed (pg_current_wal_lsn() fails there)
                'retained_bytes', pg_wal_lsn_diff(
                    CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                    s.restart_lsn
                )
            ) ORDER BY s.slot_name), '[]'::jsonb)
            FROM pg_replication_slots AS s
            WHERE s.slot_type = 'physical'
        ),
        'archiver', (
            SELECT jsonb_build_object(
                'archived', a.archived_count,
                'failed', a.failed_count,
                'failing', coalesce(a.last_failed_time > coalesce(a.last_archived_time, '-infinity'), FALSE),
                'last_archived_age_seconds', round(extract(EPOCH FROM now() - a.last_archived_time), 1)
            )
            FROM pg_stat_archiver AS a
        )
    )
$$;

COMMENT ON FUNCTION core.wal_archive() IS
'The WAL archive''s state: slots [{slot, active, retained_bytes}] (physical replication slots: Barman''s stream '
'"barman", standbys; active false: the consumer is gone and WAL piles up; retained_bytes: WAL kept for it), and '
'archiver {archived, failed, failing, last_archived_age_seconds} from pg_stat_archiver (archive_command set-ups; '
'the age is null when nothing was ever archived). Read by GET /metrics and core.monitoring().';

GRANT EXECUTE ON FUNCTION core.wal_archive() TO novara_api;
