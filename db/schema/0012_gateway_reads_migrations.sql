-- The gateway's pooled connections run as novara_api (SET ROLE once per connection); its health route
-- reports the latest applied migration, so that role may read the migration record (no health data).
GRANT SELECT ON public.schema_migrations TO novara_api;
