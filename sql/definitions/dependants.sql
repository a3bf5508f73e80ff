-- requires: (nothing)
-- What would stop DROP TABLE (no CASCADE) of backup tables: views, foreign keys, functions with
-- SQL bodies, ... in words ("view public.report"). A table's own indexes, rules and constraints do
-- not count. Set-based: one index probe of pg_depend per table, whatever the number of tables, so
-- the plan asks once for every expired backup, and drop, archive, check and details for theirs.
-- PL/pgSQL, not SQL: its query is planned once a session and then reused, where PostgreSQL 15
-- plans an SQL function's query at every call (~100 us). Every drop asks (after its lock), so a
-- prune of 1,000 backups paid ~0.1 s for it. The oids are joined from unnest(), not compared with
-- `= ANY`: a reused (generic) plan cannot see how many there are, and for `= ANY` it read all of
-- pg_depend (0.5 s a call at 100,000 backups); joined, it probes the index for each.
CREATE OR REPLACE FUNCTION backup.dependants(table_oids oid[])
RETURNS TABLE (table_oid oid, dependant text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT DISTINCT d.refobjid,
           CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                THEN (SELECT pg_catalog.format('view %I.%I', n.nspname, c.relname)
                        FROM pg_catalog.pg_rewrite r
                        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE r.oid = d.objid)
                ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END
      FROM unnest(table_oids) t(oid)
      JOIN pg_catalog.pg_depend d
        ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = t.oid
     WHERE d.deptype = 'n'
       AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                AND (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid) = d.refobjid)
       AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                AND (SELECT c.conrelid FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid) = d.refobjid);
END
$fn$;
