-- api.status: the V2 status document (no user needed).

CREATE OR REPLACE FUNCTION tests.test_status_enabled()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    latest text := (SELECT max(name) FROM public.schema_migrations WHERE kind = 'versioned');
BEGIN
    PERFORM tests.assert_true(latest ~ '^\d{4}_', 'a versioned migration is recorded');
    -- no claims at all: still answers
    PERFORM tests.assert_json_eq(api.status(), jsonb_build_object(
        'success', TRUE,
        'status', jsonb_build_object(
            'schema_v2_enabled', TRUE,
            'database_type', 'postgresql',
            'features', '{"health_events": true, "event_sourcing": true, "enhanced_analytics": true,
                          "backward_compatibility": true}'::jsonb,
            'endpoints_available', '["GET /api/v2/status", "POST /api/v2/health/events",
                "GET /api/v2/health/timeline", "GET /api/v2/health/daily-summary", "GET /api/v2/analytics"]'::jsonb,
            'schema_version', latest,
            'metrics_refreshed_at', NULL
        )
    ));
    PERFORM tests.assert_json_eq(api.status('{"schema_v2_enabled": true}'), api.status('{}'));
    PERFORM tests.assert_json_eq(api.status('{"schema_v2_enabled": "true"}'), api.status('{}'));
    -- a repeatable file is not a schema version
    PERFORM tests.assert_true(
        EXISTS (SELECT 1 FROM public.schema_migrations WHERE kind = 'repeatable' AND name > latest)
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_status_disabled_and_invalid_flag()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    st jsonb := api.status('{"schema_v2_enabled": false}') -> 'status';
BEGIN
    PERFORM tests.assert_eq(st -> 'schema_v2_enabled', 'false'::jsonb);
    PERFORM tests.assert_json_eq(st -> 'features', '{"health_events": false, "event_sourcing": false,
        "enhanced_analytics": false, "backward_compatibility": true}');
    PERFORM tests.assert_json_eq(st -> 'endpoints_available', '["GET /api/v2/status"]');
    PERFORM tests.assert_eq(st ->> 'database_type', 'postgresql');
    PERFORM tests.assert_json_eq(api.status('{"schema_v2_enabled": "false"}') -> 'status', st);
    PERFORM tests.assert_raises($q$SELECT api.status('{"schema_v2_enabled": "maybe"}')$q$, 'NV400',
        'schema_v2_enabled must be true or false');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_status_reports_the_last_metrics_refresh()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    logged timestamptz;
    expected text;
BEGIN
    PERFORM public.refresh_user_metrics();
    logged := (SELECT max(refreshed_at) FROM public.metrics_refresh_log);
    PERFORM tests.assert_true(logged IS NOT NULL);
    PERFORM tests.assert_eq(api.status() -> 'status' ->> 'metrics_refreshed_at', core.iso(logged));
    -- the gateway role may call it, with or without a (valid or unknown) user
    expected := core.iso(logged);
    SET LOCAL ROLE novara_api;
    PERFORM tests.assert_eq(api.status() -> 'status' ->> 'metrics_refreshed_at', expected);
    PERFORM tests.as_user('nobody@example.com');
    PERFORM tests.assert_eq(api.status() ->> 'success', 'true');
    RESET ROLE;
END
$$;
