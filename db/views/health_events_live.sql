-- The live events: not retractions, and not superseded by a correction or retraction.
CREATE OR REPLACE VIEW public.health_events_live
WITH (security_invoker = TRUE) AS
SELECT e.*
FROM public.health_events AS e
WHERE
    e.action <> 'retract'
    AND NOT EXISTS (
        SELECT 1
        FROM public.health_events AS s
        WHERE s.related_event_id = e.id AND s.action <> 'record'
    );

COMMENT ON VIEW public.health_events_live IS
'health_events without retractions and without events superseded by a later correction or retraction: '
'the current state of the log. security_invoker, so row-level security of health_events applies.';

GRANT SELECT ON public.health_events_live TO novara_api, novara_definer, novara_analyst;
