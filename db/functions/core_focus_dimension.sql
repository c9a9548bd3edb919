-- depends: functions/core_json_number.sql
-- The focus dimension of a day's check-in questions (public.checkin_focus_dimensions).

CREATE OR REPLACE FUNCTION core.focus_dimension(p_confidences jsonb, p_date date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
    WITH d AS (
        SELECT
            f.dimension,
            f.low_confidence_at_or_below AS threshold,
            core.json_number(p_confidences -> f.profile_field) AS confidence,
            row_number() OVER (ORDER BY f.rotation_index) - 1 AS pos,
            count(*) OVER () AS n
        FROM public.checkin_focus_dimensions AS f
    ),

    r AS (
        SELECT
            d.*,
            ((p_date - DATE '2000-01-01') % d.n + d.n) % d.n AS rotation_day
        FROM d
    )

    SELECT jsonb_build_object(
        'dimension', coalesce(low.dimension, rot.dimension),
        'reason', CASE WHEN low.dimension IS NOT NULL THEN 'low_confidence' ELSE 'rotation' END,
        'rotation_dimension', rot.dimension,
        'rotation_day', rot.rotation_day,
        'low_confidence_areas', (
            SELECT coalesce(jsonb_agg(a.dimension ORDER BY a.confidence, (a.pos - a.rotation_day + a.n) % a.n),
                '[]'::jsonb)
            FROM r AS a
            WHERE a.confidence <= a.threshold
        )
    )
    FROM r AS rot
    LEFT JOIN LATERAL (
        SELECT b.dimension
        FROM r AS b
        WHERE b.confidence <= b.threshold
        ORDER BY b.confidence, (b.pos - b.rotation_day + b.n) % b.n
        LIMIT 1
    ) AS low ON TRUE
    WHERE rot.pos = rot.rotation_day
$$;

COMMENT ON FUNCTION core.focus_dimension(jsonb, date) IS
'The day''s focus: {dimension, reason (rotation | low_confidence), rotation_dimension, rotation_day, '
'low_confidence_areas}. Rotation: the dimension at position (p_date - 2000-01-01) mod n in rotation_index order. '
'Override: the lowest onboarding confidence (p_confidences keyed by profile_field) at or below its threshold; '
'ties go to the dimension that comes first in the rotation from today.';
