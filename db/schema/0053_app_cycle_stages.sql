-- The web app's fast onboarding offers four cycle stages: ivf_prep and considering, which were accepted, and
-- ivf_active ("Currently in IVF cycle") and post_ivf ("Post-IVF treatment"), which sign-up refused with 400, so a
-- person choosing either could not create an account. The original server stored any stage at sign-up; here the
-- two become accepted values of the enum, on every route that takes a cycle stage, the storage CHECK and the
-- registry (core.apply_profile and the API document read it) kept equal as db/tests/test_profile_fields.sql proves.

-- A wider CHECK: the new one is added NOT VALID (no scan under the table's lock) and validated by 0054 in a
-- transaction of its own, which blocks neither reads nor writes while it reads the rows. The old CHECK goes in
-- the same transaction: no client can assume more of it than of the new one, which accepts all it accepted.
-- squawk-ignore ban-drop-constraint
ALTER TABLE public.user_profiles DROP CONSTRAINT user_profiles_cycle_stage_check;
ALTER TABLE public.user_profiles ADD CONSTRAINT user_profiles_cycle_stage_check CHECK (
    cycle_stage IN (
        'considering', 'ivf_prep', 'ivf_active', 'stimulation', 'retrieval', 'transfer', 'tww', 'post_ivf',
        'pregnant', 'between_cycles'
    )
) NOT VALID;

UPDATE public.profile_fields
SET
    allowed = ARRAY[
        'considering', 'ivf_prep', 'ivf_active', 'stimulation', 'retrieval', 'transfer', 'tww', 'post_ivf',
        'pregnant', 'between_cycles'
    ]
WHERE field = 'cycle_stage';
