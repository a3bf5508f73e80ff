-- requires: *
-- Applied after every other definition: nothing in schema backup is executable by PUBLIC
-- (functions are executable by PUBLIC by default when created).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA backup FROM PUBLIC;
