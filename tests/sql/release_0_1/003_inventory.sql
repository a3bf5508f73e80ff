-- 003: the prune plan and the inventory built on it, both never erroring, and the
-- Supabase-compatible wrappers. Tables are matched to metadata by name (text), never by casting
-- text to regclass, so a missing or mixed-case table cannot break a read.

DROP VIEW IF EXISTS public.backup_inventory_view;
DROP VIEW IF EXISTS backup.backup_inventory;
DROP FUNCTION IF EXISTS backup.plan_prune(timestamptz, text[]);
DROP FUNCTION IF EXISTS backup.plan_rows(timestamptz, text[]);
DROP VIEW IF EXISTS backup.backup_entries;

-- One row per backup: registered ones (metadata, with their table's oid when it exists) and
-- unregistered tables (source and date inferred from their names). Internal to the two below.
CREATE VIEW backup.backup_entries AS
WITH rel AS (
    SELECT c.oid, c.relname::text AS relname,
           -- From the catalog alone (as of the last ANALYZE/VACUUM; exact for a fresh backup, which
           -- create_table_backup analyzes): pg_total_relation_size opens every table, which costs
           -- ~70 µs each in a new session.
           (c.relpages::bigint + coalesce((SELECT t.relpages FROM pg_catalog.pg_class t
                                            WHERE t.oid = c.reltoastrelid), 0))
           * current_setting('block_size')::bigint AS estimated_bytes
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND c.relname <> ALL (backup.internal_tables())
)
SELECT m.id, m.original_table_name, m.backup_table_name, m.backup_date, m.row_count, m.backup_reason,
       m.created_at, m.created_by, m.source_schema, m.backup_kind, m.reviewed_at,
       r.oid AS table_oid, true AS registered, r.estimated_bytes,
       CASE WHEN r.oid IS NULL THEN m.archive_location END AS archive_location
  FROM backup.backup_metadata m
  LEFT JOIN rel r ON r.relname = m.backup_table_name
UNION ALL
SELECT NULL::uuid, p.source_table, r.relname, p.backup_date, NULL::bigint, NULL::text, NULL::timestamptz,
       NULL::text, 'public'::text, NULL::text, NULL::timestamptz, r.oid, false, r.estimated_bytes, NULL::text
  FROM rel r
  LEFT JOIN LATERAL backup.parse_backup_name(r.relname) p ON true
 WHERE NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = r.relname);

-- The policy applied to every backup (or only to `only_names`): a decision and its reason.
-- Rules, in order:
--   unregistered table                  -> review (adopt it, or drop it by hand)
--   metadata row whose table is gone    -> delete (a stale row; nothing to lose)
--   kept forever (critical)             -> review when its review is due, else keep
--   younger than keep_for               -> keep
--   a review acknowledged recently      -> keep until the next review is due
--   otherwise                           -> the kind's action: delete, review or archive
-- then two floors that only ever make a decision safer:
--   the newest existing backup of each source table -> keep, whatever its age
--   something depends on it (a view...)              -> review instead of delete
-- Costs O(n log n) (the newest per source) plus one index probe per delete (dependants?).
CREATE FUNCTION backup.plan_rows(at timestamptz DEFAULT backup.as_of(), only_names text[] DEFAULT NULL)
RETURNS TABLE (id uuid, original_table_name text, backup_table_name text, backup_date timestamptz,
               row_count bigint, backup_reason text, created_at timestamptz, created_by text,
               source_schema text, backup_kind text, size_bytes bigint, expires_at timestamptz,
               registered boolean, present boolean, archived boolean, age interval, decision text, reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH newest AS (
        -- The newest existing backup of each source table: one sort, O(n log n), not a probe per row.
        SELECT DISTINCT ON (m.source_schema, m.original_table_name) m.backup_table_name
          FROM backup.backup_metadata m
          JOIN pg_class c ON c.relnamespace = 'backup'::regnamespace AND c.relname = m.backup_table_name
         ORDER BY m.source_schema, m.original_table_name, m.backup_date DESC, m.backup_table_name DESC
    ), policy AS (
        -- The policy's words once per kind, not once per backup.
        SELECT p.*, backup.interval_words(p.keep_for) AS keep_words,
               backup.interval_words(p.review_every) AS review_words
          FROM backup.retention_policy p
    ), facts AS (
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
    ), floors AS (
        SELECT f.*,
               f.policy_decision <> 'keep' AND f.registered
               AND f.backup_table_name IN (SELECT n.backup_table_name FROM newest n) AS newest,
               CASE WHEN f.policy_decision = 'delete' AND f.table_oid IS NOT NULL
                    THEN (SELECT string_agg(d, ', ' ORDER BY d) FROM backup.backup_dependants(f.table_oid) d)
               END AS dependants
          FROM facts f
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

-- What the policy will do, and why, for every backup. Preview only: nothing changes.
CREATE FUNCTION backup.plan_prune(at timestamptz DEFAULT backup.as_of(), only_names text[] DEFAULT NULL)
RETURNS TABLE (backup_table_name text, original_table_name text, source_schema text, backup_kind text,
               backup_date timestamptz, age interval, size_bytes bigint, decision text, reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.backup_table_name, r.original_table_name, r.source_schema, r.backup_kind, r.backup_date,
           r.age, r.size_bytes, r.decision, r.reason
      FROM backup.plan_rows(at, only_names) r
$$;

-- The inventory: the legacy columns, then what the product adds. Its status is the plan's
-- decision in inventory words, so the list, the summary and the prune preview always agree.
CREATE VIEW backup.backup_inventory AS
SELECT r.id, r.original_table_name, r.backup_table_name, r.backup_date, r.row_count, r.backup_reason,
       r.created_at, r.created_by, pg_size_pretty(r.size_bytes) AS backup_size, r.source_schema,
       r.backup_kind, r.size_bytes, r.expires_at,
       CASE WHEN NOT r.registered THEN 'unregistered'
            WHEN r.archived THEN 'archived'
            WHEN NOT r.present THEN 'missing'
            WHEN r.decision = 'delete' THEN 'expired'
            ELSE r.decision END AS status,
       r.reason AS policy_reason
  FROM backup.plan_rows() r;

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
