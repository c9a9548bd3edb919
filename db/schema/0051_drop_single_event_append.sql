-- migrate: with-functions
-- core.checkin_append now takes the events of one write as an array and appends them in one INSERT, so the rollups'
-- statement trigger (0050) updates each user-day once per write. The one-event form is dropped in the transaction
-- of the repeatable files, so the functions that called it are replaced at the same instant. An internal helper:
-- no client calls core.* (only novara_definer's functions did).
-- squawk-ignore-file ban-drop-function
DROP FUNCTION IF EXISTS core.checkin_append(uuid, uuid, text, text, text, jsonb, timestamptz, date, uuid);
