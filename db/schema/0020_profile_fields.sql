-- The profile fields as a registry, like the check-in fields: how each is validated (core.apply_profile reads
-- these rows) and what the API documents (the gateway builds the OpenAPI schema of signup and the profile
-- routes from them). Before, the rules lived in the function's code and in the table's CHECK constraints, and
-- the API document repeated them by hand. The CHECK constraints stay as the storage guarantee;
-- db/tests/test_profile_fields.sql proves they accept exactly the values listed here.

CREATE TABLE public.profile_fields (
    field text PRIMARY KEY,
    position smallint NOT NULL UNIQUE,
    kind text NOT NULL,
    min_value integer,
    max_value integer,
    max_length integer,
    allowed text[],
    clearable boolean NOT NULL,
    description text NOT NULL,
    CONSTRAINT profile_fields_kind_check CHECK (kind IN ('string', 'integer', 'boolean', 'enum', 'timezone')),
    CONSTRAINT profile_fields_enum_values CHECK ((kind = 'enum') = (allowed IS NOT NULL))
);
COMMENT ON TABLE public.profile_fields IS
'The profile fields accepted by signup and the profile routes (PUT /api/users/me, PATCH baseline, cycle-stage, '
'medication-status): kind (string, integer, boolean, enum, timezone: an IANA name of public.timezones), bounds, '
'accepted values; clearable: null (or a blank string) clears the field, else it means "not given". Validated in '
'this order (the first invalid field is the one named). Read by core.apply_profile and by the API document.';

INSERT INTO public.profile_fields (
    field, position, kind, min_value, max_value, max_length, allowed, clearable, description
) VALUES
('nickname', 1, 'string', NULL, NULL, 50, NULL, TRUE, 'What the app calls the person (trimmed).'),
('timezone', 2, 'timezone', NULL, NULL, 64, NULL, FALSE, 'IANA time zone of the person''s local day.'),
('email_opt_in', 3, 'boolean', NULL, NULL, NULL, NULL, FALSE, 'Agrees to receive emails.'),
('confidence_meds', 4, 'integer', 1, 10, NULL, NULL, FALSE, 'Onboarding confidence about medication, 1-10.'),
('confidence_costs', 5, 'integer', 1, 10, NULL, NULL, FALSE, 'Onboarding confidence about costs, 1-10.'),
('confidence_overall', 6, 'integer', 1, 10, NULL, NULL, FALSE, 'Onboarding overall confidence, 1-10.'),
('primary_need', 7, 'string', NULL, NULL, 100, NULL, TRUE, 'What the person most needs from the app.'),
(
    'cycle_stage', 8, 'enum', NULL, NULL, NULL,
    ARRAY['considering', 'ivf_prep', 'stimulation', 'retrieval', 'transfer', 'tww', 'pregnant', 'between_cycles'],
    TRUE, 'Where the person is in treatment.'
),
('top_concern', 9, 'string', NULL, NULL, 200, NULL, TRUE, 'The person''s top concern.'),
(
    'medication_status', 10, 'enum', NULL, NULL, NULL,
    ARRAY['taking', 'starting_soon', 'not_taking', 'between_cycles', 'finished_treatment', 'pregnancy_support'],
    TRUE, 'Whether the person takes treatment medication now.'
),
('onboarding_path', 11, 'string', NULL, NULL, 100, NULL, TRUE, 'Which onboarding the app showed.'),
('baseline_completed', 12, 'boolean', NULL, NULL, NULL, NULL, FALSE, 'The baseline questions are answered.');

GRANT SELECT ON public.profile_fields TO novara_api, novara_definer, novara_analyst;

-- The check-in field a client does not send: checkin_type is set by the route (standard, enhanced). The API
-- document lists the other fields of the registry.
ALTER TABLE public.checkin_fields ADD COLUMN set_by_route boolean NOT NULL DEFAULT FALSE;
UPDATE public.checkin_fields SET set_by_route = TRUE
WHERE field = 'checkin_type';
COMMENT ON COLUMN public.checkin_fields.set_by_route IS
'Set by the route, not by the client (checkin_type): not a request field of the API.';
