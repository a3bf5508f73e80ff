-- requires: *
-- Applied after every other definition: nothing in schema backup is executable by PUBLIC
-- (functions are executable by PUBLIC by default when created), nor by the public API's roles
-- (a global default privilege may have handed them new functions).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA backup FROM PUBLIC;
DO $api$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON ALL ROUTINES IN SCHEMA backup FROM %I', r);
        END IF;
    END LOOP;
END
$api$;
