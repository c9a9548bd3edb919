-- api.timeline: window, type filter, limit, cursor paging, history.

-- Create a note event at an instant; returns its id.
CREATE OR REPLACE FUNCTION tests.tl_note(p_at timestamptz, p_type text DEFAULT 'note')
RETURNS text
LANGUAGE sql
AS $$
    SELECT api.create_event(jsonb_build_object(
        'event_type', p_type,
        'event_data', CASE p_type
            WHEN 'mood' THEN '{"mood": "okay"}'::jsonb
            WHEN 'sleep' THEN '{"hours": 7}'::jsonb
            ELSE '{"text": "t"}'::jsonb
        END,
        'occurred_at', core.iso(p_at)
    )) -> 'event' ->> 'id'
$$;

-- The ids of a timeline response, in order.
CREATE OR REPLACE FUNCTION tests.tl_ids(res jsonb)
RETURNS text[]
LANGUAGE sql
AS $$
    SELECT coalesce(array_agg(t.ev ->> 'id' ORDER BY t.n), '{}')
    FROM jsonb_array_elements(res -> 'timeline') WITH ORDINALITY AS t (ev, n)
$$;

CREATE OR REPLACE FUNCTION tests.test_timeline_window()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    before_day text;
    first_of_day text;
    last_of_day text;
    next_day text;
    recent text;
    old text;
    res jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    -- around the local day 2026-06-01 in Los Angeles (UTC-7 in June)
    before_day := tests.tl_note('2026-06-01T06:59:59.999Z');
    first_of_day := tests.tl_note('2026-06-01T07:00:00Z');
    last_of_day := tests.tl_note('2026-06-02T06:59:59.999Z');
    next_day := tests.tl_note('2026-06-02T07:00:00Z');
    recent := tests.tl_note(now() - interval '2 days');
    old := tests.tl_note(now() - interval '40 days');

    res := api.timeline('{"start_date": "2026-06-01", "end_date": "2026-06-01"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[last_of_day, first_of_day], 'one local day, newest first');
    PERFORM tests.assert_eq((res ->> 'count')::integer, 2);
    PERFORM tests.assert_eq(res ->> 'schema_version', 'v2');
    PERFORM tests.assert_eq(res ->> 'success', 'true');
    PERFORM tests.assert_true(res ? 'next_before' AND res -> 'next_before' = 'null'::jsonb, 'no next page');
    PERFORM tests.assert_eq(res -> 'timeline' -> 0 ->> 'local_date', '2026-06-01');

    res := api.timeline('{"start_date": "2026-05-31", "end_date": "2026-06-02"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[next_day, last_of_day, first_of_day, before_day]);
    -- instants: inclusive at both ends
    res := api.timeline('{"start_date": "2026-06-01T07:00:00Z", "end_date": "2026-06-02T06:59:59.999Z"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[last_of_day, first_of_day]);
    res := api.timeline('{"start_date": "2026-06-01T00:00:00-07:00", "end_date": "2026-06-02T00:00:00-07:00"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[next_day, last_of_day, first_of_day]);
    -- only a start: everything since
    res := api.timeline('{"start_date": "2026-06-02"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[recent, old, next_day]);
    -- only an end date: the 30 local days ending then
    res := api.timeline('{"end_date": "2026-06-30"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[next_day, last_of_day, first_of_day], '2026-06-01 .. 06-30');
    -- default: the last 30 local days
    res := api.timeline('{}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[recent]);
    res := api.timeline();
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[recent]);

    PERFORM tests.assert_raises($q$SELECT api.timeline('{"start_date": "2026-06-02", "end_date": "2026-06-01"}')$q$,
        'NV400', 'start_date must not be after end_date');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"start_date": "2026-02-30"}')$q$,
        'NV400', 'start_date must be a real calendar date%');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"end_date": "June 1"}')$q$,
        'NV400', 'end_date must be an ISO 8601 instant%');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"start_date": 20260601}')$q$,
        'NV400', 'start_date must be a string');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_timeline_type_filter_and_isolation()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    m text;
    s text;
    n text;
    res jsonb;
BEGIN
    PERFORM tests.make_user('bob@example.com');
    PERFORM tests.tl_note(now() - interval '1 hour', 'mood');
    PERFORM tests.make_user('ann@example.com');
    m := tests.tl_note(now() - interval '3 hours', 'mood');
    s := tests.tl_note(now() - interval '2 hours', 'sleep');
    n := tests.tl_note(now() - interval '1 hours', 'note');

    res := api.timeline('{}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[n, s, m], 'only the caller''s events');
    res := api.timeline('{"event_types": "mood,sleep"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[s, m]);
    res := api.timeline('{"event_types": " sleep , "}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[s]);
    res := api.timeline('{"event_types": ""}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[n, s, m], 'an empty list does not filter');
    res := api.timeline('{"event_types": "exercise"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), '{}'::text[], 'a registered type without events');
    PERFORM tests.assert_json_eq(res -> 'timeline', '[]');
    PERFORM tests.assert_eq((res ->> 'count')::integer, 0);
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"event_types": "mood,weather"}')$q$,
        'NV400', 'Unknown event_type: weather');

    PERFORM set_config('request.jwt.claims', '', true);
    PERFORM tests.assert_raises($q$SELECT api.timeline('{}')$q$, 'NV401', 'Access token required');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_timeline_limit()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    res jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    PERFORM tests.tl_note(now() - g * interval '1 minute') FROM generate_series(1, 105) AS g;
    res := api.timeline('{}');
    PERFORM tests.assert_eq((res ->> 'count')::integer, 100, 'default limit');
    PERFORM tests.assert_eq(jsonb_array_length(res -> 'timeline'), 100);
    PERFORM tests.assert_true(res ->> 'next_before' IS NOT NULL, 'more follow');
    res := api.timeline('{"limit": "5"}');
    PERFORM tests.assert_eq((res ->> 'count')::integer, 5);
    res := api.timeline('{"limit": 1000}');
    PERFORM tests.assert_eq((res ->> 'count')::integer, 105);
    PERFORM tests.assert_true(res -> 'next_before' = 'null'::jsonb, 'nothing more');
    res := api.timeline('{"limit": 105}');
    PERFORM tests.assert_true(res -> 'next_before' = 'null'::jsonb, 'exactly the last page: no cursor');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"limit": "0"}')$q$, 'NV400',
        'limit must be between 1 and 1000');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"limit": 1001}')$q$, 'NV400',
        'limit must be between 1 and 1000');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"limit": "ten"}')$q$, 'NV400', 'limit must be an integer');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"limit": 2.5}')$q$, 'NV400', 'limit must be an integer');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_timeline_cursor_pages_every_event_once()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    expected text[];
    seen text[] := '{}';
    res jsonb;
    v_cursor text;
    pages integer := 0;
    ev jsonb;
    prev_at timestamptz;
    prev_pos bigint;
    cur_pos bigint;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    -- 23 events, several sharing one occurred_at (ties are ordered by position)
    PERFORM tests.tl_note(now() - (g / 3) * interval '1 hour') FROM generate_series(0, 22) AS g;
    SELECT array_agg(id::text ORDER BY occurred_at DESC, position DESC) INTO expected FROM public.health_events;
    LOOP
        res := api.timeline(jsonb_strip_nulls(jsonb_build_object('limit', '4', 'before', v_cursor)));
        pages := pages + 1;
        FOR ev IN SELECT jsonb_array_elements(res -> 'timeline') LOOP
            SELECT position INTO cur_pos FROM public.health_events WHERE id = (ev ->> 'id')::uuid;
            IF prev_at IS NOT NULL THEN
                PERFORM tests.assert_true(
                    ((ev ->> 'occurred_at')::timestamptz, cur_pos) < (prev_at, prev_pos), 'strictly descending'
                );
            END IF;
            prev_at := (ev ->> 'occurred_at')::timestamptz;
            prev_pos := cur_pos;
        END LOOP;
        seen := seen || tests.tl_ids(res);
        v_cursor := res ->> 'next_before';
        EXIT WHEN v_cursor IS NULL;
        PERFORM tests.assert_true(pages < 10, 'paging terminates');
    END LOOP;
    PERFORM tests.assert_eq(pages, 6, '4+4+4+4+4+3');
    PERFORM tests.assert_eq(seen, expected, 'every event exactly once, in order');

    -- a cursor keeps paging within the requested window and types
    res := api.timeline('{"limit": 2, "event_types": "note"}');
    res := api.timeline(jsonb_build_object('limit', 2, 'event_types', 'note', 'before', res ->> 'next_before'));
    PERFORM tests.assert_eq(tests.tl_ids(res), expected[3:4]);

    PERFORM tests.assert_raises($q$SELECT api.timeline('{"before": "abc"}')$q$, 'NV400',
        'before must be a cursor returned as next_before');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"before": "123_"}')$q$, 'NV400', 'before must be a cursor%');
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"before": "99999999999999999999_1"}')$q$, 'NV400',
        'before must be a cursor%');
END
$$;

CREATE OR REPLACE FUNCTION tests.test_timeline_include_history()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a text;
    a_fix text;
    b text;
    b_ret text;
    res jsonb;
BEGIN
    PERFORM tests.make_user('ann@example.com');
    a := tests.tl_note(now() - interval '3 hours', 'mood');
    b := tests.tl_note(now() - interval '2 hours', 'sleep');
    a_fix := api.create_event(jsonb_build_object('action', 'correct', 'related_event_id', a,
        'event_data', '{"mood": "good"}'::jsonb)) -> 'event' ->> 'id';
    b_ret := api.create_event(jsonb_build_object('action', 'retract', 'related_event_id', b)) -> 'event' ->> 'id';

    res := api.timeline('{}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[a_fix], 'only live events');
    PERFORM tests.assert_eq(res -> 'timeline' -> 0 -> 'event_data' ->> 'mood', 'good');
    res := api.timeline('{"include_history": "false"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[a_fix]);
    -- with history: every version, the retraction too (it keeps b's occurred_at)
    res := api.timeline('{"include_history": "true"}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[b_ret, b, a_fix, a]);
    PERFORM tests.assert_eq(res -> 'timeline' -> 0 ->> 'action', 'retract');
    res := api.timeline('{"include_history": true, "limit": 1}');
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[b_ret]);
    res := api.timeline(jsonb_build_object('include_history', 'true', 'limit', 3, 'before', res ->> 'next_before'));
    PERFORM tests.assert_eq(tests.tl_ids(res), ARRAY[b, a_fix, a]);
    PERFORM tests.assert_raises($q$SELECT api.timeline('{"include_history": "maybe"}')$q$, 'NV400',
        'include_history must be true or false');
END
$$;
