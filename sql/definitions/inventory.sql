-- requires: plan
-- The inventory: one row per backup, never erroring. The legacy columns, then what the product
-- adds; `status` and `policy_reason` come from the plan's rules, so the list, its summary and the
-- prune preview always agree.

-- Our own wrapper depends on the view; a DBA's view on it stops the install (never dropped silently).
DROP VIEW IF EXISTS public.backup_inventory_view;
DROP VIEW IF EXISTS backup.backup_inventory;
DROP FUNCTION IF EXISTS backup.inventory_rows(text[]);

-- The inventory's rows for some backups only (NULL: all). The TUI paints its first screen from
-- the biggest backups this way, and re-reads the rows a write touched.
CREATE FUNCTION backup.inventory_rows(only_names text[] DEFAULT NULL)
RETURNS TABLE (id uuid, original_table_name text, backup_table_name text, backup_date timestamptz,
               row_count bigint, backup_reason text, created_at timestamptz, created_by text,
               backup_size text, source_schema text, backup_kind text, size_bytes bigint,
               expires_at timestamptz, status text, policy_reason text, age_words text,
               size_exact boolean, locked_by integer, verified_at timestamptz, verify_result text, rule text,
               requested_by text, redundant_of text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.id, r.original_table_name, r.backup_table_name, r.backup_date, r.row_count, r.backup_reason,
           r.created_at, r.created_by, pg_size_pretty(r.size_bytes), r.source_schema,
           r.backup_kind, r.size_bytes, r.expires_at, r.status, r.reason, r.age_words, r.size_exact, r.locked_by,
           r.verified_at, r.verify_result, r.rule, r.requested_by, r.redundant_of
      FROM backup.plan_rows(backup.as_of(), only_names) r
$$;

CREATE VIEW backup.backup_inventory AS SELECT * FROM backup.inventory_rows();

-- The backups' tables in the order of their catalog size, biggest first (the TUI's first screen).
CREATE OR REPLACE FUNCTION backup.biggest_backups(how_many int)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(x.relname ORDER BY x.pages DESC, x.relname), '{}')
      FROM (SELECT c.relname::text AS relname, c.relpages::bigint + coalesce(t.relpages, 0) AS pages
              FROM pg_class c
              LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
             WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND c.relname <> ALL (backup.internal_tables())
             ORDER BY 2 DESC, 1
             LIMIT how_many) x
$$;
