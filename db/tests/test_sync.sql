-- Keeping the check-ins' read model (daily_checkins) and the event log in step (docs/v1-v2-sync.md): the change-log
-- triggers, the V2 functions' writes of both in one transaction, the import of V1-mode writes
-- (core.sync_legacy_checkins) and the backfill. tests.checkins_drift() (_fixtures.sql) compares the read model with
-- the log's rebuild; tests/sql/test_projection.py does it after random histories.

CREATE OR REPLACE FUNCTION tests.sync_log()
RETURNS text
LANGUAGE sql
AS $$
    SELECT coalesce(string_agg(l.op, ',' ORDER BY l.position), '') FROM public.legacy_checkin_changes AS l
$$;

CREATE OR REPLACE FUNCTION tests.test_trigger_logs_legacy_writes_and_skips_v2_ones()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    v1_id text;
    v2_id text;
    raw_id uuid;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    -- V2 writes: the read model's row is written with the events, nothing is logged
    v2_id := api.create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-01-01"}')
        #>> '{checkin,id}';
    PERFORM api.update_checkin(jsonb_build_object('id', v2_id, 'confidence_today', 6));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), '', 'V2 writes are not logged');
    PERFORM tests.assert_eq((SELECT d.confidence_today FROM public.daily_checkins AS d WHERE d.id = v2_id::uuid),
        6::smallint, 'but the row follows them');

    -- V1 writes: logged, in order
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    v1_id := api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5, "date_submitted": "2026-01-02"}')
        #>> '{checkin,id}';
    PERFORM api.v1_update_checkin(jsonb_build_object('id', v1_id, 'confidence_today', 6));
    PERFORM api.v1_delete_checkin(jsonb_build_object('id', v1_id));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), 'insert,update,delete');
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.legacy_checkin_changes AS l WHERE l.checkin_id = v1_id::uuid AND l.user_id = uid),
        3::bigint
    );

    -- Writes from psql (or an older V1 deployment) are logged too; the V2 flag is reset after each V2 write.
    DELETE FROM public.legacy_checkin_changes;
    INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today)
    VALUES (uid, '2026-01-03', 'raw', 4), (uid, '2026-01-04', 'raw', 4);
    UPDATE public.daily_checkins SET confidence_today = 5 WHERE mood_today = 'raw';
    DELETE FROM public.daily_checkins WHERE date_submitted = '2026-01-04';
    PERFORM tests.assert_eq(tests.sync_log(), 'insert,insert,update,update,delete');
    PERFORM tests.assert_eq(current_setting('novara.sync_source', TRUE), '', 'flag reset');

    -- V2 retraction: the legacy row goes, not logged
    DELETE FROM public.legacy_checkin_changes;
    PERFORM core.sync_legacy_checkins(uid);
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.delete_checkin(jsonb_build_object('id', v2_id));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), '');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins AS d WHERE d.id = v2_id::uuid), 0::bigint);

    -- TRUNCATE is a delete of every row.
    DELETE FROM public.legacy_checkin_changes;
    TRUNCATE public.daily_checkins;
    PERFORM tests.assert_eq(tests.sync_log(), 'delete', 'the one row left');
    INSERT INTO public.daily_checkins (user_id, date_submitted, mood_today, confidence_today)
    VALUES (uid, '2026-01-03', 'raw', 4);
    DELETE FROM public.legacy_checkin_changes;

    -- A check-in keeps its id and owner.
    raw_id := (SELECT d.id FROM public.daily_checkins AS d WHERE d.mood_today = 'raw');
    PERFORM tests.assert_raises(format('UPDATE public.daily_checkins SET user_id = %L WHERE id = %L',
        tests.make_user('bob@example.com'), raw_id), '23514', '%id and user_id cannot change');
    PERFORM tests.assert_raises(format('UPDATE public.daily_checkins SET id = gen_random_uuid() WHERE id = %L',
        raw_id), '23514');
END
$$;

-- A psql edit of a typed column makes "fields" stale: it is dropped, and the fields come from the columns.
CREATE OR REPLACE FUNCTION tests.test_hand_edits_of_columns_win_over_stale_fields()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    c_id uuid;
    item jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    c_id := (api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5, "user_note": null,
        "x_extra": "kept"}') #>> '{checkin,id}')::uuid;
    PERFORM tests.as_superuser();
    UPDATE public.daily_checkins SET updated_at = updated_at WHERE id = c_id;
    PERFORM tests.assert_true((SELECT d.fields IS NOT NULL FROM public.daily_checkins AS d WHERE d.id = c_id),
        'an update that changes no answer keeps fields');
    UPDATE public.daily_checkins SET mood_today = 'edited by hand', anxiety_level = 3 WHERE id = c_id;
    PERFORM tests.assert_true((SELECT d.fields IS NULL FROM public.daily_checkins AS d WHERE d.id = c_id),
        'fields dropped');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    item := api.v1_get_checkin(jsonb_build_object('id', c_id)) -> 'checkin';
    PERFORM tests.assert_eq(item ->> 'mood_today', 'edited by hand');
    PERFORM tests.assert_eq(item -> 'anxiety_level', '3'::jsonb);
    PERFORM tests.assert_eq(item ->> 'x_extra', 'kept', 'extras come from extra_fields');
    PERFORM tests.assert_true(NOT item ? 'user_note', 'a given null is lost with fields (documented)');
    -- ... and V2 mode reads the same row; the log follows at the import
    PERFORM tests.assert_json_eq(api.get_checkin(jsonb_build_object('id', c_id)) -> 'checkin', item);
    PERFORM tests.as_superuser();
    PERFORM tests.assert_true(tests.checkins_drift() IS NOT NULL, 'the hand edit is not in the log yet');
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 3, 'insert, two updates');
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
    PERFORM tests.assert_eq(uid IS NOT NULL, TRUE);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_import_of_v1_insert_update_delete()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    c_id text;
    item jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    item := api.v1_create_checkin('{"mood_today": "hopeful", "confidence_today": 7, "medication_taken": "yes",
        "side_effects": ["a"], "phq4_feeling_nervous": 1, "date_submitted": "2026-02-01", "extra": {"k": [1]}}')
        -> 'checkin';
    c_id := item ->> 'id';

    -- V2 mode reads the V1 check-in at once (same read model, same id, same JSON), without importing anything
    PERFORM tests.assert_json_eq(api.get_checkin(jsonb_build_object('id', c_id)) -> 'checkin', item,
        'V2 reads the V1 check-in, same id, same JSON');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), 'insert', 'a read imports nothing');
    -- insert -> record events with correlation_id = the row's id, one per group
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 1);
    PERFORM tests.assert_eq(
        (SELECT string_agg(e.event_type || '/' || e.action, ',' ORDER BY e.event_type)
            FROM public.health_events AS e WHERE e.correlation_id = c_id::uuid AND e.source = 'checkin_v1'),
        'assessment/record,medication/record,mood/record,symptom/record'
    );
    PERFORM tests.assert_eq(
        (SELECT e.occurred_at FROM public.health_events AS e WHERE e.correlation_id = c_id::uuid LIMIT 1),
        (DATE '2026-02-01' + TIME '12:00') AT TIME ZONE 'America/Los_Angeles', 'noon local on a past date'
    );
    PERFORM tests.assert_eq(tests.sync_log(), '', 'consumed');

    -- update -> corrections of the changed groups only
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    item := api.v1_update_checkin(jsonb_build_object('id', c_id, 'medication_taken', 'no', 'missed_doses', 2))
        -> 'checkin';
    PERFORM tests.assert_json_eq(api.list_checkins() -> 'checkins' -> 0, item - 'fields');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 1);
    PERFORM tests.assert_eq(
        (SELECT string_agg(e.event_type || '/' || e.action, ',' ORDER BY e.position)
            FROM public.health_events AS e WHERE e.correlation_id = c_id::uuid AND e.action <> 'record'),
        'medication/correct'
    );
    PERFORM tests.assert_eq(
        (SELECT e.event_data ->> 'status' FROM public.health_events_live AS e
            WHERE e.correlation_id = c_id::uuid AND e.event_type = 'medication'), 'missed'
    );

    -- a move of the date corrects every group onto the new date
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_update_checkin(jsonb_build_object('id', c_id, 'date_submitted', '2026-02-03'));
    PERFORM tests.assert_eq(api.get_checkin(jsonb_build_object('id', c_id)) #>> '{checkin,date_submitted}',
        '2026-02-03');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 1);
    PERFORM tests.assert_eq(
        (SELECT string_agg(DISTINCT e.local_date::text, ',') FROM public.health_events_live AS e
            WHERE e.correlation_id = c_id::uuid), '2026-02-03'
    );

    -- delete -> retractions; the date is free in V2 too (a V2 write imports the delete first)
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_delete_checkin(jsonb_build_object('id', c_id));
    PERFORM tests.assert_eq(api.list_checkins() -> 'count', '0'::jsonb);
    PERFORM tests.assert_raises(format('SELECT api.get_checkin(%L)', jsonb_build_object('id', c_id)), 'NV404');
    PERFORM api.create_checkin('{"mood_today": "new", "confidence_today": 5, "date_submitted": "2026-02-03"}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), '', 'imported by the V2 write');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events_live AS e WHERE e.correlation_id = c_id::uuid), 0::bigint
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS e WHERE e.correlation_id = c_id::uuid AND e.action = 'retract'),
        4::bigint, 'the history keeps every version'
    );
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
    PERFORM tests.assert_eq(uid IS NOT NULL, TRUE);
END
$$;

CREATE OR REPLACE FUNCTION tests.test_import_is_idempotent()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    c_id uuid;
    n_events bigint;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    c_id := (api.v1_create_checkin('{"mood_today": "ok", "confidence_today": 5}') #>> '{checkin,id}')::uuid;
    PERFORM api.v1_update_checkin(jsonb_build_object('id', c_id, 'confidence_today', 6));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 2, 'two entries applied');
    n_events := (SELECT count(*) FROM public.health_events);
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid), 0, 'running it again applies nothing');
    PERFORM tests.assert_eq(core.sync_legacy_checkins(), 0);

    -- Replayed (duplicate or stale) entries change nothing: the import applies the row's current state.
    INSERT INTO public.legacy_checkin_changes (checkin_id, user_id, op)
    VALUES (c_id, uid, 'insert'), (c_id, uid, 'update'), (c_id, uid, 'insert'), (gen_random_uuid(), uid, 'delete');
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid, 2), 4, 'drained in batches of 2');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), n_events, 'no new event');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.legacy_checkin_changes), 0::bigint);
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
END
$$;

-- Legacy writes that swap dates, or free a date and reuse it, are applied in one import without collisions.
CREATE OR REPLACE FUNCTION tests.test_import_of_swaps_and_reused_dates()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    a uuid;
    b uuid;
    c uuid;
    d_id uuid;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    a := (api.create_checkin('{"mood_today": "a", "confidence_today": 1, "date_submitted": "2026-01-01"}')
        #>> '{checkin,id}')::uuid;
    b := (api.create_checkin('{"mood_today": "b", "confidence_today": 2, "date_submitted": "2026-01-02"}')
        #>> '{checkin,id}')::uuid;
    c := (api.create_checkin('{"mood_today": "c", "confidence_today": 3, "date_submitted": "2026-01-03"}')
        #>> '{checkin,id}')::uuid;
    -- In V1 mode: swap a and b (through a free day); delete c and take its date with a new one; then an
    -- update of b, whose first entry is older than the delete of c.
    PERFORM api.v1_update_checkin(jsonb_build_object('id', a, 'date_submitted', '2026-01-09'));
    PERFORM api.v1_update_checkin(jsonb_build_object('id', b, 'date_submitted', '2026-01-01'));
    PERFORM api.v1_update_checkin(jsonb_build_object('id', a, 'date_submitted', '2026-01-02'));
    PERFORM api.v1_delete_checkin(jsonb_build_object('id', c));
    d_id := (api.v1_create_checkin('{"mood_today": "d", "confidence_today": 4, "date_submitted": "2026-01-03"}')
        #>> '{checkin,id}')::uuid;
    PERFORM api.v1_update_checkin(jsonb_build_object('id', b, 'mood_today', 'b2'));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.sync_log(), 'update,update,update,delete,insert,update');
    -- Applied one entry at a time (the hardest order: each sees the rows' final state), then all at once.
    PERFORM tests.assert_eq(core.sync_legacy_checkins(uid, 1), 6);
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
    PERFORM tests.assert_eq(
        (SELECT string_agg(v.mood_today || '@' || v.date_submitted, ',' ORDER BY v.date_submitted)
            FROM public.daily_checkins_legacy AS v),
        'b2@2026-01-01,a@2026-01-02,d@2026-01-03'
    );
    PERFORM tests.assert_eq(d_id IS NOT NULL, TRUE);
END
$$;

-- The V2 functions write the read model and the events in one transaction: daily_checkins equals the log's rebuild,
-- column by column, after each of them.
CREATE OR REPLACE FUNCTION tests.test_v2_writes_keep_the_read_model_equal_to_the_log()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a text;
    b text;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    a := api.create_checkin('{"mood_today": "hopeful, anxious", "confidence_today": "7", "medication_taken": "yes",
        "user_note": "a\nb", "primary_concern_today": null, "anxiety_level": 6, "side_effects": ["x", "y"],
        "missed_doses": 0, "injection_confidence": 9, "appointment_within_3_days": true, "appointment_anxiety": 2,
        "coping_strategies_used": [], "partner_involved_today": false, "wish_knew_more_about": ["z"],
        "phq4_feeling_nervous": 1, "phq4_stop_worrying": 2, "phq4_little_interest": 3, "phq4_feeling_down": 0,
        "journey_reflection_today": "text", "financial_stress_today": 4, "physical_symptoms": [{"n": 1}],
        "symptom_severity": {"a": null}, "an extra": [null], "date_submitted": "2026-01-01"}') #>> '{checkin,id}';
    b := api.create_enhanced_checkin('{"mood_today": "tired", "confidence_today": 2}') #>> '{checkin,id}';
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb, 'after create');
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb, 'after create (items)');
    PERFORM tests.assert_eq((SELECT d.phq4_score FROM public.daily_checkins AS d WHERE d.id = a::uuid), 6::smallint);
    PERFORM tests.assert_eq((SELECT d.checkin_type FROM public.daily_checkins AS d WHERE d.id = b::uuid), 'enhanced');

    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.update_checkin(jsonb_build_object('id', a, 'anxiety_level', NULL, 'side_effects', NULL,
        'missed_doses', 3, 'new extra', 'v', 'date_submitted', '2026-01-05', 'checkin_type', 'enhanced'));
    PERFORM api.update_checkin(jsonb_build_object('id', b, 'phq4_feeling_down', 2));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb, 'after update');
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb, 'after update (items)');
    PERFORM tests.assert_eq((SELECT d.date_submitted FROM public.daily_checkins AS d WHERE d.id = a::uuid),
        DATE '2026-01-05');
    PERFORM tests.assert_eq((SELECT d.anxiety_level FROM public.daily_checkins AS d WHERE d.id = a::uuid),
        NULL::smallint);

    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.delete_checkin(jsonb_build_object('id', b));
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb, 'after delete');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 1::bigint);
    PERFORM tests.assert_eq(tests.sync_log(), '', 'nothing of it logged');
END
$$;

-- A row the log does not know yet (written concurrently by a V1 instance) holds the day in the read model, whose
-- unique (user_id, date_submitted) is the one guard of both modes: the V2 write is refused with the same 409, and
-- nothing of it stays.
CREATE OR REPLACE FUNCTION tests.test_v2_write_refused_when_a_legacy_row_holds_the_date()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    v2_id text;
    err jsonb;
BEGIN
    -- the V1 row as a concurrent instance would have it: committed in the table, its log entry not visible
    PERFORM set_config('novara.sync_source', 'v2', TRUE);
    INSERT INTO public.daily_checkins (id, user_id, date_submitted, mood_today, confidence_today)
    VALUES ('00000000-0000-4000-8000-000000000001', uid, '2026-01-01', 'v1 row', 3);
    PERFORM set_config('novara.sync_source', '', TRUE);

    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    err := tests.error_of($q$SELECT api.create_checkin('{"mood_today": "v2", "confidence_today": 5,
        "date_submitted": "2026-01-01"}')$q$);
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_eq(err ->> 'message',
        'You have already submitted a check-in for today. Please try again tomorrow.');
    PERFORM tests.assert_json_eq(err -> 'detail', '{"code": "CHECKIN_EXISTS", "existing_checkin": {"id":
        "00000000-0000-4000-8000-000000000001", "mood_today": "v1 row", "confidence_today": 3,
        "date_submitted": "2026-01-01"}}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 0::bigint, 'no event written');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins), 1::bigint, 'the V1 row only');

    -- the same for a correction moving onto that date
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    v2_id := api.create_checkin('{"mood_today": "v2", "confidence_today": 5, "date_submitted": "2026-01-02"}')
        #>> '{checkin,id}';
    err := tests.error_of(format('SELECT api.update_checkin(%L)', jsonb_build_object('id', v2_id,
        'date_submitted', '2026-01-01', 'mood_today', 'moved')));
    PERFORM tests.assert_eq(err ->> 'state', 'NV409');
    PERFORM tests.assert_eq(err ->> 'message',
        'You have already submitted a check-in for 2026-01-01. Choose another date_submitted.');
    PERFORM tests.assert_eq(err #>> '{detail,existing_checkin,mood_today}', 'v1 row');
    PERFORM tests.assert_eq(api.get_checkin(jsonb_build_object('id', v2_id)) #>> '{checkin,mood_today}', 'v2');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events WHERE action <> 'record'), 0::bigint,
        'no correction kept');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_import_per_user_and_for_all()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := tests.make_user('ann@example.com');
    bob uuid := tests.make_user('bob@example.com');
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_create_checkin('{"mood_today": "ann", "confidence_today": 5}');
    PERFORM tests.as_gateway('{"email": "bob@example.com"}');
    PERFORM api.v1_create_checkin('{"mood_today": "bob", "confidence_today": 5}');
    PERFORM api.v1_create_checkin('{"mood_today": "bob", "confidence_today": 5, "date_submitted": "2026-01-01"}');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(core.sync_legacy_checkins(ann), 1, 'ann only');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.legacy_checkin_changes AS l WHERE l.user_id = bob),
        2::bigint, 'bob''s still pending');
    PERFORM set_config('request.jwt.claims', '{"email": "someone"}', TRUE);
    PERFORM tests.assert_eq(core.sync_legacy_checkins(NULL, 1000), 2, 'all users');
    PERFORM tests.assert_eq(current_setting('request.jwt.claims'), '{"email": "someone"}', 'claims restored');
    PERFORM tests.assert_eq((SELECT count(*) FROM public.daily_checkins_legacy), 3::bigint, 'all in the log');
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
END
$$;

-- Every V2 read sees a V1 write made before it: the check-in reads read the read model V1 mode writes (and import
-- nothing: they are read-only), the reads of the event log import the caller's pending writes first.
CREATE OR REPLACE FUNCTION tests.test_v2_reads_see_v1_writes()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    today text;
    fn text;
    body jsonb;
    pending bigint;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    today := api.v1_today_checkin() ->> 'date';
    FOREACH fn IN ARRAY ARRAY['today_checkin', 'last_values', 'list_checkins', 'get_checkin', 'timeline',
        'daily_summary', 'analytics'] LOOP
        PERFORM tests.as_superuser();
        PERFORM set_config('novara.erasure', 'on', TRUE);
        DELETE FROM public.health_events;
        PERFORM set_config('novara.erasure', 'off', TRUE);
        DELETE FROM public.daily_checkins;
        DELETE FROM public.legacy_checkin_changes;
        PERFORM tests.as_gateway('{"email": "ann@example.com"}');
        body := api.v1_create_checkin('{"mood_today": "hopeful", "confidence_today": 8}');
        EXECUTE format('SELECT api.%I($1)', fn) INTO body USING jsonb_build_object('id', body #>> '{checkin,id}');
        PERFORM tests.assert_true(
            CASE fn
                WHEN 'today_checkin' THEN body #>> '{checkin,mood_today}' = 'hopeful'
                WHEN 'last_values' THEN body #>> '{last_values,mood_today}' = 'hopeful'
                WHEN 'list_checkins' THEN body -> 'count' = '1'
                WHEN 'get_checkin' THEN body #>> '{checkin,mood_today}' = 'hopeful'
                WHEN 'timeline' THEN body #>> '{timeline,0,event_data,mood}' = 'hopeful'
                WHEN 'daily_summary' THEN body #> '{summary,check_in_completed}' = 'true' AND body #>>
                    '{summary,date}' = today
                WHEN 'analytics' THEN body #> '{analytics,checkin_count}' = '1'
            END,
            fn || ' sees the V1 check-in: ' || body::text
        );
        PERFORM tests.as_superuser();
        pending := (SELECT count(*) FROM public.legacy_checkin_changes);
        PERFORM tests.assert_eq(pending, CASE WHEN fn IN ('timeline', 'daily_summary', 'analytics') THEN 0 ELSE 1 END::bigint,
            fn || ': pending V1 writes after it');
    END LOOP;
END
$$;

-- The check-in reads are STABLE: the gateway runs them in READ ONLY transactions, and they see V1-mode writes all
-- the same. A read of the event log run READ ONLY skips the import (no error): it answers from the log as it is.
CREATE OR REPLACE FUNCTION tests.test_import_skipped_in_read_only_transactions()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_create_checkin('{"mood_today": "hopeful", "confidence_today": 8}');
    PERFORM set_config('transaction_read_only', 'on', TRUE);
    PERFORM tests.assert_eq(api.list_checkins() -> 'count', '1'::jsonb);
    PERFORM tests.assert_eq(api.today_checkin() #>> '{checkin,mood_today}', 'hopeful');
    PERFORM tests.assert_eq(api.timeline() -> 'count', '0'::jsonb, 'the log has not imported it');
END
$$;

-- The metrics views are built from the event log: their refresh imports the pending V1-mode writes first, so they
-- count a check-in V1 mode wrote.
CREATE OR REPLACE FUNCTION tests.test_metrics_refresh_imports_v1_writes()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    uid uuid := tests.make_user('ann@example.com');
    r jsonb;
BEGIN
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    PERFORM api.v1_create_checkin('{"mood_today": "hopeful", "confidence_today": 8, "date_submitted": "2026-03-01"}');
    PERFORM tests.as_superuser();
    r := public.refresh_user_metrics(FALSE);
    PERFORM tests.assert_eq(r -> 'v1_writes_imported', '1'::jsonb);
    PERFORM tests.assert_eq(tests.sync_log(), '', 'the change log drained');
    PERFORM tests.assert_eq(
        (SELECT m.checkin_completed FROM public.user_daily_metrics AS m WHERE m.user_id = uid AND m.date = '2026-03-01'),
        TRUE, 'the V1 check-in is in the snapshot'
    );
    PERFORM tests.assert_eq(public.refresh_user_metrics(TRUE) -> 'v1_writes_imported', '0'::jsonb, 'nothing pending');
END
$$;

-- The backfill: rows of the read model whose check-in has no event (legacy rows loaded without logging: without
-- "fields", with an unknown column, odd values) become V2 check-ins with the same ids and the same JSON, and their
-- pending change-log entries are consumed; a check-in the log has already is left to the change log; it is
-- idempotent.
CREATE OR REPLACE FUNCTION tests.test_backfill_maps_every_column()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := tests.make_user('ann@example.com', 'Asia/Tokyo');
    bob uuid := tests.make_user('bob@example.com');
    v2 text;
    item jsonb;
    n_v2 bigint;
BEGIN
    -- a real deployment's extra column
    ALTER TABLE public.daily_checkins ADD COLUMN mood_color text;
    -- a check-in written through V2 mode: in the log already
    PERFORM tests.as_gateway('{"email": "bob@example.com"}');
    v2 := api.create_checkin('{"mood_today": "v2", "confidence_today": 4, "date_submitted": "2026-01-01",
        "user_note": null}') #>> '{checkin,id}';
    PERFORM tests.as_superuser();
    n_v2 := (SELECT count(*) FROM public.health_events AS e WHERE e.correlation_id = v2::uuid);
    -- legacy rows loaded before the migration (no "fields", no log entries), and one whose insert was logged
    ALTER TABLE public.daily_checkins DISABLE TRIGGER daily_checkins_log_insert;
    INSERT INTO public.daily_checkins (
        id, user_id, date_submitted, mood_today, confidence_today, medication_taken, user_note, anxiety_level,
        side_effects, missed_doses, appointment_within_3_days, coping_strategies_used, phq4_feeling_nervous,
        phq4_score, checkin_type, extra_fields, created_at, updated_at, mood_color
    ) VALUES
        ('00000000-0000-4000-8000-00000000000a', ann, '2025-12-31', 'good', 8, 'yes', E'note\n2', 3,
            '["nausea"]', 1, FALSE, '[]', 2, 5, 'enhanced', '{"journey_momentum": "up", "x": [1, null]}',
            '2025-12-31 10:00+09', '2026-01-01 09:00+09', 'blue'),
        ('00000000-0000-4000-8000-00000000000b', ann, '2026-01-01', 'meh', 0, 'not tracked', NULL, NULL,
            'null', NULL, NULL, NULL, NULL, NULL, 'standard', '{}', '2026-01-01 08:00+09', '2026-01-01 08:00+09',
            NULL);
    ALTER TABLE public.daily_checkins ENABLE TRIGGER daily_checkins_log_insert;
    INSERT INTO public.daily_checkins (id, user_id, date_submitted, mood_today, confidence_today, created_at,
        updated_at)
    VALUES ('00000000-0000-4000-8000-00000000000c', bob, '2026-01-02', 'logged', 6, '2025-06-01 08:00+00',
        '2025-06-01 08:00+00');
    PERFORM tests.assert_eq(tests.sync_log(), 'insert');

    PERFORM tests.assert_eq(core.backfill_legacy_checkins(2), 2, 'a first batch of two rows');
    PERFORM tests.assert_eq(core.backfill_legacy_checkins(1000), 1, 'the rest');
    PERFORM tests.assert_eq(core.backfill_legacy_checkins(1000), 0, 'idempotent: nothing left');
    PERFORM tests.assert_eq(tests.sync_log(), '', 'the logged insert consumed with its import');
    PERFORM tests.assert_eq(tests.checkins_drift(), NULL::jsonb);
    PERFORM tests.assert_eq(
        (SELECT string_agg(v.id::text, ',' ORDER BY v.id) FROM public.daily_checkins_legacy AS v),
        '00000000-0000-4000-8000-00000000000a,00000000-0000-4000-8000-00000000000b,'
        || '00000000-0000-4000-8000-00000000000c,' || v2
    );
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events AS e WHERE e.correlation_id = v2::uuid), n_v2,
        'the V2 check-in untouched');

    -- every column mapped; unknown columns are extras; medication_taken 'not tracked' means not answered
    PERFORM tests.as_gateway('{"email": "ann@example.com"}');
    item := api.get_checkin('{"id": "00000000-0000-4000-8000-00000000000a"}') -> 'checkin';
    PERFORM tests.assert_json_eq(item -> 'fields', ('{"id": "00000000-0000-4000-8000-00000000000a",
        "user_id": "' || ann || '", "date_submitted": "2025-12-31", "created_at": "2025-12-31T01:00:00.000+00:00",
        "updated_at": "2026-01-01T00:00:00.000+00:00", "checkin_type": "enhanced", "mood_today": "good",
        "confidence_today": 8, "medication_taken": "yes", "user_note": "note\n2", "anxiety_level": 3,
        "side_effects": ["nausea"], "missed_doses": 1, "appointment_within_3_days": false,
        "coping_strategies_used": [], "phq4_feeling_nervous": 2, "phq4_score": 5, "journey_momentum": "up",
        "x": [1, null], "mood_color": "blue"}')::jsonb);
    PERFORM tests.assert_json_eq(api.v1_get_checkin('{"id": "00000000-0000-4000-8000-00000000000a"}') -> 'checkin',
        item, 'V1 read path: the same');
    item := api.get_checkin('{"id": "00000000-0000-4000-8000-00000000000b"}') -> 'checkin';
    PERFORM tests.assert_json_eq((item -> 'fields') - ARRAY['id', 'user_id', 'created_at', 'updated_at'],
        '{"date_submitted": "2026-01-01", "checkin_type": "standard", "mood_today": "meh", "confidence_today": 0,
        "medication_taken": "not tracked"}', 'odd legacy values kept as they are');
    PERFORM tests.as_superuser();
    PERFORM tests.assert_eq(
        (SELECT e.occurred_at FROM public.health_events AS e
            WHERE e.correlation_id = '00000000-0000-4000-8000-00000000000a' AND e.event_type = 'mood'),
        TIMESTAMPTZ '2025-12-31 10:00+09', 'created on its own local day: occurred_at = created_at'
    );
    PERFORM tests.assert_eq(
        (SELECT count(*) FROM public.health_events AS e WHERE e.correlation_id = '00000000-0000-4000-8000-00000000000b'
            AND e.event_type = 'medication'), 0::bigint, 'no medication event for "not tracked"'
    );
END
$$;

-- A check-in's events as data: what the backfill and core.checkin_converge must agree on (ids and positions aside).
CREATE OR REPLACE FUNCTION tests.checkin_events()
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'checkin', e.correlation_id, 'type', e.event_type, 'subtype', e.event_subtype, 'data', e.event_data,
        'occurred_at', e.occurred_at, 'local_date', e.local_date, 'action', e.action, 'source', e.source,
        'source_version', e.source_version
    ) ORDER BY e.correlation_id, e.event_type, e.position), '[]')
    FROM public.health_events AS e
$$;

-- The backfill imports rows whose check-in has no events yet in one statement per batch: the result must be what
-- core.checkin_converge (the rule every other import and every correction follows) writes for them.
CREATE OR REPLACE FUNCTION tests.test_backfill_records_what_convergence_would()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    ann uuid := tests.make_user('ann@example.com', 'Asia/Tokyo');
    converged jsonb;
    bulk jsonb;
BEGIN
    PERFORM tests.as_superuser();
    ALTER TABLE public.daily_checkins DISABLE TRIGGER daily_checkins_log_insert;
    INSERT INTO public.daily_checkins (
        id, user_id, date_submitted, mood_today, confidence_today, medication_taken, side_effects, missed_doses,
        phq4_feeling_nervous, phq4_stop_worrying, phq4_little_interest, phq4_feeling_down, checkin_type,
        extra_fields, created_at, updated_at
    ) VALUES
        -- created on its own local day (occurred_at = created_at), every group, extras
        ('00000000-0000-4000-8000-00000000000a', ann, '2026-03-01', 'good', 8, 'no', '["nausea"]', 2, 1, 2, 0, 3,
            'enhanced', '{"journey_momentum": "up", "physical_symptoms": ["cramps"]}', '2026-03-01 10:00+09',
            '2026-03-02 09:00+09'),
        -- created two days later (noon local time of its date), the mood event only
        ('00000000-0000-4000-8000-00000000000b', ann, '2026-03-05', 'meh', 3, 'not tracked', NULL, NULL, NULL,
            NULL, NULL, NULL, 'standard', '{}', '2026-03-07 08:00+09', '2026-03-07 08:00+09');
    ALTER TABLE public.daily_checkins ENABLE TRIGGER daily_checkins_log_insert;

    -- convergence, rolled back once its events are read
    BEGIN
        PERFORM core.checkin_converge(d.user_id, d.id, core.legacy_fields(d), d.checkin_type, d.date_submitted,
            d.created_at, d.updated_at)
        FROM public.daily_checkins AS d;
        converged := tests.checkin_events();
        RAISE EXCEPTION USING ERRCODE = 'NVT98';
    EXCEPTION WHEN SQLSTATE 'NVT98' THEN
        NULL;
    END;
    PERFORM tests.assert_eq((SELECT count(*) FROM public.health_events), 0::bigint, 'rolled back');

    PERFORM tests.assert_eq(core.backfill_legacy_checkins(1000), 2, 'both rows imported');
    bulk := tests.checkin_events();
    PERFORM tests.assert_eq(jsonb_array_length(bulk), 5, 'four groups, then the mood event alone');
    PERFORM tests.assert_json_eq(bulk, converged, 'the backfill writes what convergence writes');
END
$$;
