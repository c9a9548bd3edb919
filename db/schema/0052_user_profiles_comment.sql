-- The table's COMMENT as 0003 now writes it (reworded there: it named a section of an outside document), for the
-- databases that applied 0003 before.
COMMENT ON TABLE public.user_profiles IS
'Profile of each user (the profile fields of the account routes, docs/api.md): nickname, IANA timezone '
'(defines the user''s local day), onboarding confidences (1-10), treatment stage and medication status, '
'baseline completion.';
