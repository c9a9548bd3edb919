-- depends: functions/core_user_json.sql, functions/core_checkin_row.sql, functions/core_legacy_fields.sql
-- depends: functions/core_event_json.sql, functions/core_insight_json.sql, functions/core_iso.sql
-- Right of access and portability (GDPR articles 15 and 20): everything stored about one user, as one document.
-- Called by api.export_me (the person, through the gateway) and core.export_user (a DBA).

CREATE OR REPLACE FUNCTION core.user_export(p_user_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
-- Row values written by to_jsonb (profile, engagement, feedback) show their instants in UTC, like core.iso.
SET timezone = 'UTC'
AS $$
    -- Each list is one aggregate over an index on user_id: a 3-year daily history builds in tens of milliseconds.
    SELECT jsonb_build_object(
        'user', core.user_json(u.id),
        'profile', (SELECT to_jsonb(p) - 'user_id' FROM public.user_profiles AS p WHERE p.user_id = u.id),
        -- The live check-ins, every field: daily_checkins holds every one in both modes (docs/v1-v2-sync.md).
        'checkins', (
            SELECT coalesce(jsonb_agg(
                core.checkin_row(d.id, d.user_id, d.date_submitted, d.created_at, d.updated_at, d.checkin_type,
                    core.legacy_fields(d))
                ORDER BY d.date_submitted, d.created_at, d.id
            ), '[]'::jsonb)
            FROM public.daily_checkins AS d WHERE d.user_id = u.id
        ),
        -- The whole event log: records, corrections and retractions, in the order they were written.
        'events', (
            SELECT coalesce(jsonb_agg(
                core.event_json(e) || jsonb_build_object(
                    'position', e.position, 'source_version', e.source_version, 'idempotency_key', e.idempotency_key
                )
                ORDER BY e.position
            ), '[]'::jsonb)
            FROM public.health_events AS e WHERE e.user_id = u.id
        ),
        'insights', (
            SELECT coalesce(jsonb_agg(
                core.insight_json(i) || jsonb_build_object(
                    'analysis_data', i.analysis_data, 'expires_at', core.iso(i.expires_at)
                )
                ORDER BY i.created_at, i.id
            ), '[]'::jsonb)
            FROM public.insights AS i WHERE i.user_id = u.id
        ),
        'engagement', (
            SELECT coalesce(jsonb_agg(to_jsonb(g) - 'user_id' ORDER BY g.created_at, g.id), '[]'::jsonb)
            FROM public.insight_engagement AS g WHERE g.user_id = u.id
        ),
        'feedback', (
            SELECT coalesce(jsonb_agg(to_jsonb(f) - 'user_id' ORDER BY f.created_at, f.id), '[]'::jsonb)
            FROM public.insight_feedback AS f WHERE f.user_id = u.id
        ),
        'generated_at', core.iso(clock_timestamp())
    )
    FROM public.users AS u
    WHERE u.id = p_user_id
$$;

COMMENT ON FUNCTION core.user_export(uuid) IS
'Everything stored about one user (GDPR access and portability): {user, profile, checkins (live, every field, '
'oldest first), events (the whole log: records, corrections, retractions, in log order), insights, engagement, '
'feedback, generated_at}; NULL when the user does not exist or is not visible. Not included: the password hash '
'and login attempts (security records), idempotency bookkeeping, metrics (derived from the events).';
