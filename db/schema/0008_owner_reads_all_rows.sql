-- Row-level security is FORCEd, so it applies to the tables' owner (the migrating user) too. The
-- materialized views are owned by that user and must see every row when refreshed: on a managed server
-- where the owner is neither superuser nor BYPASSRLS, membership in novara_analyst (whose policies read
-- all rows) gives exactly that, and nothing more than read access.
GRANT novara_analyst TO current_user;
