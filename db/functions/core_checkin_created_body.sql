-- The 201 body of POST /api/checkins, shared by V2 (api.create_checkin) and V1 mode
-- (api.v1_create_checkin), so both modes answer alike.

CREATE OR REPLACE FUNCTION core.checkin_created_body(p_item jsonb, p_fields jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN p_fields -> 'sentiment_analysis' ->> 'sentiment' = 'positive' THEN jsonb_build_object(
            'success', TRUE,
            'checkin', p_item,
            'message', 'Daily check-in completed successfully! 🌟 We love your positive energy today! 🎉',
            'sentiment_analysis', jsonb_build_object(
                'sentiment', 'positive',
                'confidence', p_fields -> 'sentiment_analysis' -> 'confidence',
                'celebration_triggered', TRUE
            )
        )
        ELSE jsonb_build_object(
            'success', TRUE, 'checkin', p_item, 'message', 'Daily check-in completed successfully! 🌟'
        )
    END
$$;

COMMENT ON FUNCTION core.checkin_created_body(jsonb, jsonb) IS
'{success, checkin, message[, sentiment_analysis]} for a created check-in item and its validated fields: the '
'celebration message and sentiment_analysis when fields.sentiment_analysis.sentiment is "positive".';
