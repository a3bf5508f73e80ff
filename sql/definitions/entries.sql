-- requires: basics
-- (Re-created, not replaced: its columns changed in 0.2.)
DROP FUNCTION IF EXISTS backup.named_entries(text[]);
DROP VIEW IF EXISTS backup.backup_entries;
-- One row per backup: registered ones (metadata, with their table's oid when it exists) and
-- unregistered tables (source and date inferred from their names). Internal to the plan.
-- Tables are matched to metadata by name (text), never by casting text to regclass, so a missing
-- or mixed-case table cannot break a read. A plain view (no materialized CTE), so a filter by name
-- reaches the catalog's (relname, relnamespace) index instead of reading every table first.

CREATE OR REPLACE VIEW backup.backup_entries AS
SELECT m.id, m.original_table_name, m.backup_table_name, backup.valid_date(m.backup_date) AS backup_date,
       m.row_count, m.backup_reason, backup.valid_date(m.created_at) AS created_at, m.created_by, m.source_schema,
       m.backup_kind, backup.valid_date(m.reviewed_at) AS reviewed_at,
       c.oid AS table_oid, true AS registered,
       -- From the catalog alone (as of the last ANALYZE/VACUUM; exact for a fresh backup, which
       -- create_table_backup analyzes): pg_total_relation_size opens every table.
       (c.relpages::bigint + coalesce((SELECT t.relpages FROM pg_catalog.pg_class t WHERE t.oid = c.reltoastrelid), 0))
       * current_setting('block_size')::bigint AS estimated_bytes,
       CASE WHEN c.oid IS NULL THEN m.archive_location END AS archive_location,
       backup.valid_date(m.verified_at) AS verified_at, m.verify_result,
       -- The name as the catalog types it, for named_entries (below).
       m.backup_table_name::name AS relname,
       -- The date as stored, when it is not one a client can hold ('infinity'): the plan says it.
       CASE WHEN backup.valid_date(m.backup_date) IS NULL THEN m.backup_date::text END AS invalid_date,
       m.held_at, m.held_by, m.hold_reason, m.hold_until, m.requested_by, m.redundant_of
  FROM backup.backup_metadata m
  -- relname = text::name: the catalog's (relname, relnamespace) index serves a lookup by name.
  LEFT JOIN pg_catalog.pg_class c
         ON c.relname = m.backup_table_name::name AND c.relnamespace = 'backup'::regnamespace
        AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname <> ALL (backup.internal_tables())
UNION ALL
SELECT NULL::uuid, p.source_table, c.relname::text, p.backup_date, NULL::bigint, NULL::text, NULL::timestamptz,
       NULL::text, 'public'::text, NULL::text, NULL::timestamptz, c.oid, false,
       (c.relpages::bigint + coalesce((SELECT t.relpages FROM pg_catalog.pg_class t WHERE t.oid = c.reltoastrelid), 0))
       * current_setting('block_size')::bigint,
       NULL::text, NULL::timestamptz, NULL::text, c.relname, NULL::text,
       NULL::timestamptz, NULL::text, NULL::text, NULL::timestamptz, NULL::text, NULL::text
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL backup.parse_backup_name(c.relname::text) p ON true
 WHERE c.relnamespace = 'backup'::regnamespace
   AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND c.relname <> ALL (backup.internal_tables())
   -- COLLATE "default": relname's own collation is "C", and a comparison in "C" cannot use the
   -- unique index on backup_table_name. Without the index, a stale estimate of pg_class (right after
   -- many backups were made, before autovacuum analyzes it) planned a nested loop over both
   -- tables: 11 minutes at 100,000 backups, for what takes 0.1 s.
   AND NOT EXISTS (SELECT 1 FROM backup.backup_metadata m
                    WHERE m.backup_table_name = c.relname::text COLLATE "default");

-- The entries of these names: what plan_rows(only_names) reads (the TUI's first screen, a row
-- patched after a write, prune batches). PL/pgSQL planned for the names at hand (a custom plan,
-- always): the list is a constant there, so the metadata is probed through its unique index and
-- the catalog's branch tests each table against a hash of the names. In the view's own generic
-- form, `= ANY (names)` compared every row with every name: 0.59 s for 200 names at 100,000
-- backups, 0.11 s this way. Each name is asked twice, as text and as the catalog's name type: text
-- reaches the metadata's unique index, name the catalog's (relname, relnamespace) index in the
-- unregistered tables' branch (as text it read all of pg_class: ~60 ms at 100,000 for one name).
-- A name longer than 63 bytes is cut short as a name; the text comparison still tells it apart.
CREATE FUNCTION backup.named_entries(names text[])
RETURNS SETOF backup.backup_entries
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN QUERY SELECT e.* FROM backup.backup_entries e
                  WHERE e.backup_table_name = ANY (names) AND e.relname = ANY (names::name[]);
END
$$;
