-- requires: (nothing)
-- What would stop DROP TABLE (no CASCADE) of backup tables: views, foreign keys, functions with
-- SQL bodies, ... in words ("view public.report"). A table's own indexes, rules and constraints do
-- not count. Set-based: one index probe of pg_depend per table, whatever the number of tables, so
-- the plan asks once for every expired backup, and drop, archive, check and details for theirs.
CREATE OR REPLACE FUNCTION backup.dependants(table_oids oid[])
RETURNS TABLE (table_oid oid, dependant text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT d.refobjid,
           CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                THEN (SELECT pg_catalog.format('view %I.%I', n.nspname, c.relname)
                        FROM pg_catalog.pg_rewrite r
                        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE r.oid = d.objid)
                ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END
      FROM pg_catalog.pg_depend d
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = ANY (table_oids)
       AND d.deptype = 'n'
       AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                AND (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid) = d.refobjid)
       AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                AND (SELECT c.conrelid FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid) = d.refobjid)
$$;
