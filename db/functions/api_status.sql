-- GET /api/v2/status: what Schema V2 offers on this deployment (no user needed).

-- SECURITY DEFINER: see [definer] in db/README.md
CREATE OR REPLACE FUNCTION api.status(args jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    v_flag jsonb := coalesce(args, '{}'::jsonb) -> 'schema_v2_enabled';
    v_enabled boolean := TRUE;
    v_endpoints text[] := ARRAY['GET /api/v2/status'];
BEGIN
    IF coalesce(jsonb_typeof(v_flag), 'null') <> 'null' THEN
        IF lower(v_flag #>> '{}') NOT IN ('true', 'false') THEN
            PERFORM core.fail(400, 'schema_v2_enabled must be true or false', 'VALIDATION_ERROR',
                jsonb_build_object('field', 'schema_v2_enabled'));
        END IF;
        v_enabled := lower(v_flag #>> '{}') = 'true';
    END IF;
    IF v_enabled THEN
        v_endpoints := v_endpoints || ARRAY[
            'POST /api/v2/health/events',
            'GET /api/v2/health/timeline',
            'GET /api/v2/health/daily-summary',
            'GET /api/v2/analytics'
        ];
    END IF;

    RETURN jsonb_build_object(
        'success', TRUE,
        'status', jsonb_build_object(
            'schema_v2_enabled', v_enabled,
            'database_type', 'postgresql',
            'features', jsonb_build_object(
                'health_events', v_enabled,
                'event_sourcing', v_enabled,
                'enhanced_analytics', v_enabled,
                'backward_compatibility', TRUE
            ),
            'endpoints_available', to_jsonb(v_endpoints),
            'schema_version', (
                SELECT max(m.name) FROM public.schema_migrations AS m WHERE m.kind = 'versioned'
            ),
            'metrics_refreshed_at', (
                SELECT core.iso(max(r.refreshed_at)) FROM public.metrics_refresh_log AS r
            )
        )
    );
END
$$;

ALTER FUNCTION api.status(jsonb) OWNER TO novara_definer;

COMMENT ON FUNCTION api.status(jsonb) IS
'GET /api/v2/status (token optional). args schema_v2_enabled (the gateway''s flag, default true). {success, status: '
'{schema_v2_enabled, database_type, features, endpoints_available (the V2 routes usable now: only the status '
'route while the flag is off), schema_version (latest versioned migration), metrics_refreshed_at}}.';
