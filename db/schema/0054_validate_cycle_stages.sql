-- 0053's wider cycle-stage CHECK, validated apart from the transaction that added it (SHARE UPDATE EXCLUSIVE: reads
-- and writes go on while the rows are checked). Every stored stage is one the narrower CHECK accepted.
ALTER TABLE public.user_profiles VALIDATE CONSTRAINT user_profiles_cycle_stage_check;
