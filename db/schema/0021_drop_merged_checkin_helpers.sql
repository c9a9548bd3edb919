-- migrate: with-functions
-- Helpers the repeatable files no longer define: core.legacy_apply_events became core.checkin_converge (the one
-- rule that writes a check-in's state as events), and core.legacy_columns with its three converters gave way to
-- jsonb_populate_record over the columns of public.daily_checkins_legacy (core.legacy_put). Dropped in the
-- transaction of the repeatable files, so the functions that called them are replaced at the same instant.
-- They are internal helpers: no client calls core.* (the gateway's role may not execute them; only
-- novara_definer's api functions did).
-- squawk-ignore-file ban-drop-function
DROP FUNCTION IF EXISTS core.legacy_apply_events(uuid, uuid, jsonb, text, date, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS core.legacy_columns(jsonb);
DROP FUNCTION IF EXISTS core.legacy_smallint(jsonb);
DROP FUNCTION IF EXISTS core.legacy_text(jsonb);
DROP FUNCTION IF EXISTS core.legacy_boolean(jsonb);
