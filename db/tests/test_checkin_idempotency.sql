-- Idempotency-Key on check-in creation (POST /api/checkins, /api/daily-checkin-enhanced), V2 and V1 mode.

CREATE OR REPLACE FUNCTION tests.idem_counts(p_user uuid)
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT jsonb_build_object(
        'events', (SELECT count(*) FROM public.health_events AS e WHERE e.user_id = p_user),
        'rebuilt', (SELECT count(*) FROM public.daily_checkins_legacy AS c WHERE c.user_id = p_user),
        'daily', (SELECT count(*) FROM public.daily_checkins AS d WHERE d.user_id = p_user),
        'keys', (SELECT count(*) FROM public.checkin_idempotency AS k WHERE k.user_id = p_user)
    )
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_replay_returns_original_and_writes_nothing()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('idem@x.io');
    body jsonb := '{"mood_today": "calm", "confidence_today": 6, "medication_taken": "yes",
        "phq4_feeling_down": 1, "date_submitted": "2026-01-10", "idempotency_key": "k-1"}';
    first jsonb;
    again jsonb;
    before jsonb;
BEGIN
    first := api.create_checkin(body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'the first answer keeps the route status (201)');
    before := tests.idem_counts(uid);
    PERFORM tests.assert_json_eq(before, '{"events": 3, "rebuilt": 1, "daily": 1, "keys": 1}');
    again := api.create_checkin(body);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(again, first);
    -- Key order in the body does not matter (jsonb), and the replay writes nothing.
    again := api.create_checkin(jsonb_build_object('idempotency_key', 'k-1') || (body - 'idempotency_key'));
    PERFORM tests.assert_json_eq(again, first);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(tests.idem_counts(uid), before);
    PERFORM tests.assert_eq(
        (SELECT k.checkin_id::text FROM public.checkin_idempotency AS k WHERE k.user_id = uid), first #>> '{checkin,id}'
    );
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_key_with_other_body_conflicts()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('idem2@x.io');
    first jsonb;
    err jsonb;
BEGIN
    first := api.create_checkin('{"mood_today": "calm", "confidence_today": 6, "date_submitted": "2026-01-10",
        "idempotency_key": "k"}');
    err := tests.error_of($q$SELECT api.create_checkin('{"mood_today": "calm", "confidence_today": 7,
        "date_submitted": "2026-01-11", "idempotency_key": "k"}')$q$);
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_eq(err ->> 'message', 'Idempotency-Key reuse with a different request');
    PERFORM tests.assert_eq(err #>> '{detail,code}', 'IDEMPOTENCY_CONFLICT');
    PERFORM tests.assert_eq(err #>> '{detail,checkin_id}', first #>> '{checkin,id}');
    -- The same answers through the enhanced route are another request (checkin_type differs).
    err := tests.error_of($q$SELECT api.create_enhanced_checkin('{"mood_today": "calm", "confidence_today": 6,
        "date_submitted": "2026-01-10", "idempotency_key": "k"}')$q$);
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_json_eq(tests.idem_counts(uid), '{"events": 1, "rebuilt": 1, "daily": 1, "keys": 1}');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_keys_are_per_user_and_enhanced_replays()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a uuid := tests.make_user('idem-a@x.io');
    b uuid := tests.make_user('idem-b@x.io');
    body jsonb := '{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-02-01",
        "idempotency_key": "shared"}';
    ra jsonb;
    rb jsonb;
BEGIN
    PERFORM tests.as_user('idem-a@x.io');
    ra := api.create_enhanced_checkin(body);
    PERFORM tests.as_user('idem-b@x.io');
    rb := api.create_enhanced_checkin(body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'another user''s key is not a replay');
    PERFORM tests.assert_true(ra #>> '{checkin,id}' <> rb #>> '{checkin,id}', 'two check-ins');
    PERFORM tests.assert_eq(rb #>> '{checkin,checkin_type}', 'enhanced');
    PERFORM tests.assert_json_eq(api.create_enhanced_checkin(body), rb);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.as_user('idem-a@x.io');
    PERFORM tests.assert_json_eq(api.create_enhanced_checkin(body), ra);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(tests.idem_counts(a), '{"events": 1, "rebuilt": 1, "daily": 1, "keys": 1}');
    PERFORM tests.assert_json_eq(tests.idem_counts(b), '{"events": 1, "rebuilt": 1, "daily": 1, "keys": 1}');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_failed_request_does_not_take_the_key()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('idem3@x.io');
    r jsonb;
BEGIN
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-03-01"}');
    -- 409 CHECKIN_EXISTS and 400 roll back with the claim: the key is still free.
    PERFORM tests.assert_eq(tests.error_of($q$SELECT api.create_checkin('{"mood_today": "ok",
        "confidence_today": 5, "date_submitted": "2026-03-01", "idempotency_key": "retry"}')$q$) ->> 'state', 'NV409');
    PERFORM tests.assert_eq(tests.error_of($q$SELECT api.create_checkin('{"mood_today": "ok",
        "confidence_today": 11, "date_submitted": "2026-03-02", "idempotency_key": "retry"}')$q$) ->> 'state', 'NV400');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.checkin_idempotency AS k WHERE k.user_id = uid), 0::bigint);
    r := api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-03-02",
        "idempotency_key": "retry"}');
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'created');
    PERFORM tests.assert_eq(r #>> '{checkin,date_submitted}', '2026-03-02');
    -- A malformed key is refused before anything else.
    PERFORM tests.assert_raises($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5,
        "idempotency_key": ""}')$q$, 'NV400', 'Idempotency-Key must be 1 to 200 characters');
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin(jsonb_build_object('mood_today', 'ok',
        'confidence_today', 5, 'idempotency_key', repeat('k', 201)))$q$, 'NV400',
        'Idempotency-Key must be 1 to 200 characters');
    PERFORM tests.assert_raises($q$SELECT api.create_checkin('{"mood_today": "ok", "confidence_today": 5,
        "idempotency_key": 7}')$q$, 'NV400', 'Idempotency-Key must be 1 to 200 characters');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_replay_after_delete_returns_original()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('idem4@x.io');
    body jsonb := '{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-03-05",
        "idempotency_key": "del"}';
    first jsonb;
BEGIN
    first := api.create_checkin(body);
    PERFORM api.delete_checkin(jsonb_build_object('id', first #>> '{checkin,id}'));
    PERFORM tests.assert_json_eq(api.create_checkin(body), first);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins_legacy AS c WHERE c.user_id = uid), 0::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_v1_mode_replay_and_across_modes()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('idem5@x.io');
    v1_body jsonb := '{"mood_today": "tired", "confidence_today": 4, "side_effects": ["nausea"],
        "date_submitted": "2026-04-01", "idempotency_key": "v1"}';
    v2_body jsonb := '{"mood_today": "fine", "confidence_today": 8, "date_submitted": "2026-04-02",
        "idempotency_key": "v2"}';
    r1 jsonb;
    r2 jsonb;
BEGIN
    r1 := api.v1_create_checkin(v1_body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer, 'created in V1 mode');
    PERFORM tests.assert_json_eq(api.v1_create_checkin(v1_body), r1);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_raises($q$SELECT api.v1_create_checkin('{"mood_today": "x", "confidence_today": 4,
        "idempotency_key": "v1"}')$q$, 'NV409', 'Idempotency-Key reuse with a different request');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins AS d WHERE d.user_id = uid), 1::bigint);

    -- Flip to V2: the retry is recognised; the V1 check-in is imported once (2 events), not created twice.
    PERFORM tests.assert_json_eq(api.create_checkin(v1_body), r1);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(tests.idem_counts(uid), '{"events": 2, "rebuilt": 1, "daily": 1, "keys": 1}');
    PERFORM tests.assert_eq(
        (SELECT c.id::text FROM public.daily_checkins_legacy AS c WHERE c.user_id = uid), r1 #>> '{checkin,id}'
    );

    -- A V2 write, then back to V1: its retry is recognised there too.
    r2 := api.create_checkin(v2_body);
    PERFORM tests.assert_eq(tests.took_status(), NULL::integer);
    PERFORM tests.assert_json_eq(api.v1_create_checkin(v2_body), r2);
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.assert_json_eq(tests.idem_counts(uid), '{"events": 3, "rebuilt": 2, "daily": 2, "keys": 2}');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.legacy_checkin_changes AS l WHERE l.user_id = uid), 0::bigint);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_checkin_idempotency_table_is_private()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.make_user('idem6@x.io');
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "idempotency_key": "p"}');
    PERFORM tests.as_gateway('{"email": "idem6@x.io"}');
    PERFORM tests.assert_raises('SELECT count(*) FROM public.checkin_idempotency', '42501');
    -- Through the API it works as the gateway role (replay).
    PERFORM api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "idempotency_key": "p"}');
    PERFORM tests.assert_eq(tests.took_status(), 200);
    PERFORM tests.as_superuser();
    PERFORM tests.assert_true(
        (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_class AS c
            WHERE c.oid = 'public.checkin_idempotency'::regclass),
        'row-level security forced'
    );
END
$$;
