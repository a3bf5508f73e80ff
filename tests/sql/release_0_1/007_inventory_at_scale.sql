-- 007: the same plan and inventory as 003, rebuilt to stay fast at 100,000 backups.
-- Same columns and signatures (CREATE OR REPLACE: the views and wrappers on top stay as they are).
-- What changed, measured on 100,000 backups (benchmarks/):
--   * backup_entries is a plain view (no materialized CTE), so a filter by name reaches the
--     catalog's name index instead of reading every table of the schema first;
--   * the newest backup of each source is one index probe per source, not a sort of every row;
--   * "does something depend on it?" is one semi-join over pg_depend, not a probe per expired
--     backup; the dependants are named only for the few that have some;
--   * with only_names (the prune batches, the TUI's first screen) only those backups and their
--     source tables are looked at.
-- Complexity: O(n) hash joins over the n backups, O(s log n) for the s source tables, O(k) for the
-- k expired backups with dependants; with only_names, O(m log n) for m names.

CREATE OR REPLACE VIEW backup.backup_entries AS
SELECT m.id, m.original_table_name, m.backup_table_name, m.backup_date, m.row_count, m.backup_reason,
       m.created_at, m.created_by, m.source_schema, m.backup_kind, m.reviewed_at,
       c.oid AS table_oid, true AS registered,
       -- From the catalog alone (as of the last ANALYZE/VACUUM; exact for a fresh backup, which
       -- create_table_backup analyzes): pg_total_relation_size opens every table.
       (c.relpages::bigint + coalesce((SELECT t.relpages FROM pg_catalog.pg_class t WHERE t.oid = c.reltoastrelid), 0))
       * current_setting('block_size')::bigint AS estimated_bytes,
       CASE WHEN c.oid IS NULL THEN m.archive_location END AS archive_location
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
       NULL::text
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL backup.parse_backup_name(c.relname::text) p ON true
 WHERE c.relnamespace = 'backup'::regnamespace
   AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND c.relname <> ALL (backup.internal_tables())
   AND NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = c.relname::text);

-- The rules are 003's (read them there); only how they are computed changed.
CREATE OR REPLACE FUNCTION backup.plan_rows(at timestamptz DEFAULT backup.as_of(), only_names text[] DEFAULT NULL)
RETURNS TABLE (id uuid, original_table_name text, backup_table_name text, backup_date timestamptz,
               row_count bigint, backup_reason text, created_at timestamptz, created_by text,
               source_schema text, backup_kind text, size_bytes bigint, expires_at timestamptz,
               registered boolean, present boolean, archived boolean, age interval, decision text, reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
-- Hash joins and aggregates over 100k rows fit in memory instead of spilling to disk.
SET work_mem = '64MB'
AS $$
    WITH policy AS (
        -- The policy's words once per kind, not once per backup.
        SELECT p.*, backup.interval_words(p.keep_for) AS keep_words,
               backup.interval_words(p.review_every) AS review_words
          FROM backup.retention_policy p
    ), facts AS MATERIALIZED (
        SELECT e.*, p.keep_for, p.action, p.review_every, p.keep_words, p.review_words,
               -- SET backup.size_estimates = on trades exact sizes for speed (the TUI's first paint).
               CASE WHEN current_setting('backup.size_estimates', true) = 'on' THEN e.estimated_bytes
                    ELSE pg_total_relation_size(e.table_oid) END AS size_bytes,
               at - e.backup_date AS age,
               CASE
                   WHEN NOT e.registered THEN 'review'
                   WHEN e.archive_location IS NOT NULL THEN 'keep'
                   WHEN e.table_oid IS NULL THEN 'delete'
                   WHEN p.keep_for IS NULL THEN
                       CASE WHEN coalesce(e.reviewed_at, e.backup_date) + p.review_every <= at
                            THEN 'review' ELSE 'keep' END
                   WHEN e.backup_date + p.keep_for > at THEN 'keep'
                   WHEN e.reviewed_at IS NOT NULL
                        AND e.reviewed_at + coalesce(p.review_every, p.keep_for) > at THEN 'keep'
                   ELSE p.action
               END AS policy_decision
          FROM backup.backup_entries e
          LEFT JOIN policy p ON p.backup_kind = e.backup_kind
         WHERE only_names IS NULL OR e.backup_table_name = ANY (only_names)
    ), newest AS (
        -- The newest existing backup of each source table in scope (ties: the greatest name): one
        -- probe of the (source, date) index per source, O(sources × log n), not a sort of every row.
        SELECT n.backup_table_name
          FROM (SELECT DISTINCT f.source_schema, f.original_table_name FROM facts f WHERE f.registered) s
          CROSS JOIN LATERAL (
              SELECT m.backup_table_name
                FROM backup.backup_metadata m
               WHERE m.source_schema = s.source_schema AND m.original_table_name = s.original_table_name
                 AND EXISTS (SELECT 1 FROM pg_class c
                              WHERE c.relname = m.backup_table_name::name
                                AND c.relnamespace = 'backup'::regnamespace)
               ORDER BY m.backup_date DESC, m.backup_table_name DESC
               LIMIT 1) n
    ), depended AS (
        -- Expired backups something depends on (a view, a foreign key...), in one pass.
        SELECT DISTINCT d.refobjid
          FROM pg_depend d
         WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
           AND d.refobjid IN (SELECT f.table_oid FROM facts f WHERE f.policy_decision = 'delete')
           AND NOT (d.classid = 'pg_rewrite'::regclass
                    AND (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid) = d.refobjid)
           AND NOT (d.classid = 'pg_constraint'::regclass
                    AND (SELECT c.conrelid FROM pg_constraint c WHERE c.oid = d.objid) = d.refobjid)
    ), floors AS (
        SELECT f.*,
               f.policy_decision <> 'keep' AND f.registered AND n.backup_table_name IS NOT NULL AS newest,
               CASE WHEN dep.refobjid IS NOT NULL
                    THEN (SELECT string_agg(d, ', ' ORDER BY d) FROM backup.backup_dependants(f.table_oid) d)
               END AS dependants
          FROM facts f
          LEFT JOIN newest n ON n.backup_table_name = f.backup_table_name
          LEFT JOIN depended dep ON dep.refobjid = f.table_oid AND f.policy_decision = 'delete'
    )
    SELECT x.id, x.original_table_name, x.backup_table_name, x.backup_date, x.row_count, x.backup_reason,
           x.created_at, x.created_by, x.source_schema, x.backup_kind, x.size_bytes,
           x.backup_date + x.keep_for, x.registered, x.table_oid IS NOT NULL, x.archive_location IS NOT NULL, x.age,
           CASE WHEN x.newest THEN 'keep'
                WHEN x.dependants IS NOT NULL THEN 'review'
                ELSE x.policy_decision END,
           CASE
               WHEN NOT x.registered THEN 'not registered: adopt it (backup-tui adopt) or drop it by hand'
               WHEN x.archive_location IS NOT NULL THEN format('archived to %s', x.archive_location)
               WHEN x.table_oid IS NULL THEN 'the table is gone: a stale metadata row, nothing to lose'
               WHEN x.newest THEN format('newest backup of %s.%s: always kept',
                                         x.source_schema, x.original_table_name)
               WHEN x.dependants IS NOT NULL THEN
                   format('%s, %s old, kept %s; %s depends on it: review, never deleted automatically',
                          x.backup_kind, backup.age_words(x.age), x.keep_words, x.dependants)
               WHEN x.keep_for IS NULL THEN
                   CASE WHEN x.policy_decision = 'review'
                        THEN format('%s: kept forever, review due (every %s)',
                                    x.backup_kind, x.review_words)
                        ELSE format('%s: kept forever, next review in %s', x.backup_kind,
                                    backup.age_words(coalesce(x.reviewed_at, x.backup_date) + x.review_every - at))
                   END
               WHEN x.policy_decision = 'keep' AND x.backup_date + x.keep_for <= at THEN
                   format('%s, %s old: reviewed %s, next review in %s', x.backup_kind, backup.age_words(x.age),
                          to_char(x.reviewed_at, 'YYYY-MM-DD'),
                          backup.age_words(x.reviewed_at + coalesce(x.review_every, x.keep_for) - at))
               WHEN x.policy_decision = 'archive' THEN
                   format('%s, %s old: move to cold storage', x.backup_kind, backup.age_words(x.age))
               WHEN x.policy_decision = 'review' THEN
                   format('%s, %s old, kept %s: review', x.backup_kind, backup.age_words(x.age),
                          x.keep_words)
               ELSE format('%s, %s old, kept %s', x.backup_kind, backup.age_words(x.age),
                           x.keep_words)
           END
      FROM floors x
$$;

-- The inventory's rows for some backups only (NULL: all). The TUI paints its first screen from
-- the biggest backups this way, before the whole inventory arrives. Same columns as the view.
CREATE OR REPLACE FUNCTION backup.inventory_rows(only_names text[] DEFAULT NULL)
RETURNS TABLE (id uuid, original_table_name text, backup_table_name text, backup_date timestamptz,
               row_count bigint, backup_reason text, created_at timestamptz, created_by text,
               backup_size text, source_schema text, backup_kind text, size_bytes bigint,
               expires_at timestamptz, status text, policy_reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.id, r.original_table_name, r.backup_table_name, r.backup_date, r.row_count, r.backup_reason,
           r.created_at, r.created_by, pg_size_pretty(r.size_bytes), r.source_schema,
           r.backup_kind, r.size_bytes, r.expires_at,
           CASE WHEN NOT r.registered THEN 'unregistered'
                WHEN r.archived THEN 'archived'
                WHEN NOT r.present THEN 'missing'
                WHEN r.decision = 'delete' THEN 'expired'
                ELSE r.decision END,
           r.reason
      FROM backup.plan_rows(backup.as_of(), only_names) r
$$;

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

CREATE OR REPLACE VIEW backup.backup_inventory AS SELECT * FROM backup.inventory_rows();

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
