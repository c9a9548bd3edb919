-- Right to be forgotten: delete every row of one user, leave an audit row without personal data.

CREATE OR REPLACE FUNCTION core.erase_user(p_user_id uuid, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    prior_claims text := coalesce(current_setting('request.jwt.claims', true), '');
    n_events integer;
    n_daily integer;
    n_insights integer;
    n_engagement integer;
    n_feedback integer;
    n_profiles integer;
    n_users integer;
    log_id bigint;
BEGIN
    -- Name the user in the claims, so row-level security (forced, even for a table owner) shows its rows.
    PERFORM set_config('request.jwt.claims', jsonb_build_object('id', p_user_id)::text, true);
    PERFORM 1 FROM public.users AS u WHERE u.id = p_user_id FOR UPDATE;
    IF p_user_id IS NULL OR NOT FOUND THEN
        PERFORM set_config('request.jwt.claims', prior_claims, true);
        PERFORM core.fail(404, 'User not found', 'USER_NOT_FOUND');
    END IF;

    -- The only way past the append-only trigger of health_events (it allows DELETE while this is 'on').
    PERFORM set_config('novara.erasure', 'on', true);

    DELETE FROM public.health_events AS e WHERE e.user_id = p_user_id;
    GET DIAGNOSTICS n_events = ROW_COUNT;
    DELETE FROM public.daily_checkins AS d WHERE d.user_id = p_user_id;
    GET DIAGNOSTICS n_daily = ROW_COUNT;
    DELETE FROM public.insight_feedback AS f WHERE f.user_id = p_user_id;
    GET DIAGNOSTICS n_feedback = ROW_COUNT;
    DELETE FROM public.insight_engagement AS g WHERE g.user_id = p_user_id;
    GET DIAGNOSTICS n_engagement = ROW_COUNT;
    DELETE FROM public.insights AS i WHERE i.user_id = p_user_id;
    GET DIAGNOSTICS n_insights = ROW_COUNT;
    DELETE FROM public.user_profiles AS p WHERE p.user_id = p_user_id;
    GET DIAGNOSTICS n_profiles = ROW_COUNT;
    -- Any other table referencing users (ON DELETE CASCADE: user_credentials) goes with the account, and the
    -- trigger users_forget_login_attempts deletes the login attempts made with its email (0013).
    DELETE FROM public.users AS u WHERE u.id = p_user_id;
    GET DIAGNOSTICS n_users = ROW_COUNT;

    INSERT INTO public.erasure_log (user_id_sha256, reason, events_deleted, checkins_deleted, insights_deleted)
    VALUES (
        encode(sha256(convert_to(p_user_id::text, 'UTF8')), 'hex'),
        p_reason,
        n_events,
        n_daily,
        n_insights
    )
    RETURNING id INTO log_id;

    PERFORM set_config('novara.erasure', 'off', true);
    PERFORM set_config('request.jwt.claims', prior_claims, true);

    RETURN jsonb_build_object(
        'success', TRUE,
        'erasure_log_id', log_id,
        'events_deleted', n_events,
        'daily_checkins_deleted', n_daily,
        'insights_deleted', n_insights,
        'insight_engagement_deleted', n_engagement,
        'insight_feedback_deleted', n_feedback,
        'profiles_deleted', n_profiles,
        'users_deleted', n_users
    );
END
$$;

REVOKE ALL ON FUNCTION core.erase_user(uuid, text) FROM public, novara_api, novara_definer, novara_analyst;

COMMENT ON FUNCTION core.erase_user(uuid, text) IS
'Right to be forgotten (DBAs only; not executable by novara_api/novara_definer): deletes the user''s events, '
'check-ins (daily_checkins), insights with their engagement and feedback rows, profile, password hash, '
'change-log entries and login attempts made with its email (by cascade and trigger) and the account in one '
'transaction and logs counts, reason and the SHA-256 of the id in erasure_log. Returns the counts; NV404 unknown '
'user. Metrics materialized views drop the user''s rows at their next refresh.';
