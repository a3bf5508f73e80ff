-- 003: the inventory, one row per backup, that never errors, and the Supabase-compatible wrappers.
-- One catalog query: tables are matched to metadata by name (text), never by casting text to
-- regclass, so a missing or mixed-case table cannot break the view.

DROP VIEW IF EXISTS public.backup_inventory_view;
DROP VIEW IF EXISTS backup.backup_inventory;

CREATE VIEW backup.backup_inventory AS
WITH rel AS (
    SELECT c.oid, c.relname::text AS relname
      FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND c.relname <> ALL (backup.internal_tables())
), entries AS (
    SELECT m.id, m.original_table_name, m.backup_table_name, m.backup_date, m.row_count,
           m.backup_reason, m.created_at, m.created_by, m.source_schema, m.backup_kind, r.oid
      FROM backup.backup_metadata m
      LEFT JOIN rel r ON r.relname = m.backup_table_name
    UNION ALL
    SELECT NULL::uuid, p.source_table, r.relname, p.backup_date, NULL::bigint,
           NULL::text, NULL::timestamptz, NULL::text, 'public'::text, NULL::text, r.oid
      FROM rel r
      LEFT JOIN LATERAL backup.parse_backup_name(r.relname) p ON true
     WHERE NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = r.relname)
)
SELECT e.id,
       e.original_table_name,
       e.backup_table_name,
       e.backup_date,
       e.row_count,
       e.backup_reason,
       e.created_at,
       e.created_by,
       pg_size_pretty(s.size_bytes) AS backup_size,
       e.source_schema,
       e.backup_kind,
       s.size_bytes,
       e.backup_date + p.keep_for AS expires_at,
       CASE
           WHEN e.id IS NULL THEN 'unregistered'
           WHEN e.oid IS NULL THEN 'missing'
           WHEN p.keep_for IS NULL THEN
               CASE WHEN p.review_every IS NOT NULL AND e.backup_date + p.review_every <= clock.now
                    THEN 'review' ELSE 'keep' END
           WHEN e.backup_date + p.keep_for > clock.now THEN 'keep'
           WHEN p.action = 'delete' THEN 'expired'
           ELSE p.action
       END AS status
  FROM entries e
 CROSS JOIN (SELECT backup.as_of() AS now) clock
  LEFT JOIN backup.retention_policy p ON p.backup_kind = e.backup_kind
 CROSS JOIN LATERAL (SELECT pg_total_relation_size(e.oid) AS size_bytes) s;

-- Supabase compatibility: the same rows under the names the 2025 layout's clients call.
-- Never for anon/authenticated/PUBLIC (Supabase grants new objects in public to them by default).
DO $wrappers$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'CREATE VIEW public.backup_inventory_view WITH (security_invoker = true)
                 AS SELECT * FROM backup.backup_inventory';
    ELSE
        EXECUTE 'CREATE VIEW public.backup_inventory_view AS SELECT * FROM backup.backup_inventory';
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

DO $grants$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON public.backup_inventory_view FROM %I', r);
            EXECUTE format('REVOKE EXECUTE ON FUNCTION public.get_backup_tables() FROM %I', r);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT ON public.backup_inventory_view TO service_role;
        GRANT EXECUTE ON FUNCTION public.get_backup_tables() TO service_role;
    END IF;
END
$grants$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
