-- requires: inventory, roles
-- Supabase compatibility: the same rows under the names the 2025 layout's clients call.
-- Never for anon/authenticated/PUBLIC (Supabase grants new objects in public to them by default).

DO $wrappers$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'CREATE OR REPLACE VIEW public.backup_inventory_view WITH (security_invoker = true)
                 AS SELECT * FROM backup.backup_inventory';
    ELSE
        EXECUTE 'CREATE OR REPLACE VIEW public.backup_inventory_view AS SELECT * FROM backup.backup_inventory';
    END IF;
END
$wrappers$;

CREATE OR REPLACE FUNCTION public.get_backup_tables()
RETURNS TABLE (backup_table_name text, original_table_name text, source_schema text, backup_kind text,
               backup_date timestamptz, row_count bigint, size_bytes bigint, status text)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT i.backup_table_name, i.original_table_name, i.source_schema, i.backup_kind,
           i.backup_date, i.row_count, i.size_bytes, i.status
      FROM backup.backup_inventory i
     ORDER BY i.backup_date DESC NULLS LAST
$$;

REVOKE ALL ON public.backup_inventory_view FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.get_backup_tables() FROM PUBLIC;

-- service_role (Supabase's server-side role) reads the wrappers, so it gets what a reviewer gets:
-- both wrappers run with the caller's rights (security_invoker), down to backup.inventory_rows.
DO $grants$
DECLARE
    r text;
    statement text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON public.backup_inventory_view FROM %I', r);
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION public.get_backup_tables() FROM %I', r);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
        FOR statement IN SELECT g FROM backup.role_grants('service_role'::text, 'reviewer'::text) g LOOP
            EXECUTE statement;
        END LOOP;
        GRANT SELECT ON public.backup_inventory_view TO service_role;
        GRANT EXECUTE ON FUNCTION public.get_backup_tables() TO service_role;
    END IF;
END
$grants$;
