-- The insight a client names in an engagement or feedback (POST /api/insights/engagement, /feedback).

CREATE OR REPLACE FUNCTION core.insight_reference(
    p_user_id uuid, p_value jsonb, OUT insight_id uuid, OUT client_ref text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    v text := core.check_value('insight_id', p_value, 'string', max_length => 200) #>> '{}';
BEGIN
    -- The web app names the insight it shows "<type>_<milliseconds>": any string is a valid reference.
    IF v IS NULL OR btrim(v) = '' THEN
        RETURN;
    END IF;
    -- Only a UUID of one of the caller's insights is linked. Another user's insight is looked up under the
    -- caller's row-level security, so it is not found and is kept as a reference like any unknown UUID:
    -- the answer is the same either way and says nothing about other users.
    IF v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        SELECT i.id INTO insight_id FROM public.insights AS i WHERE i.id = v::uuid AND i.user_id = p_user_id;
    END IF;
    IF insight_id IS NULL THEN
        client_ref := v;
    END IF;
END
$$;

COMMENT ON FUNCTION core.insight_reference(uuid, jsonb) IS
'The insight_id a client sent (a string of at most 200 characters, else NV400 naming insight_id): '
'(insight_id, NULL) when it is the UUID of one of p_user_id''s insights, else (NULL, the string verbatim); '
'(NULL, NULL) when absent, null or blank.';
