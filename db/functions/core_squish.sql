-- Free text of a client made one line: whitespace runs collapsed, ends trimmed.

CREATE OR REPLACE FUNCTION core.squish(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT nullif(regexp_replace(regexp_replace(value, '\s+', ' ', 'g'), '^ | $', '', 'g'), '')
$$;

COMMENT ON FUNCTION core.squish(text) IS
'Text with every run of whitespace (newlines, tabs included) made one space and the ends trimmed; NULL if empty.';
