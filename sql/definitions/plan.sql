-- requires: basics, words, dependants, entries, locks, holds, redundant
-- The retention policy applied to every backup: a rule, and from the rule (one table, below) the
-- decision, the inventory status and the reason in words. The inventory, its "reclaimable now",
-- the prune preview and apply_prune all read this, so they cannot disagree.
--
-- Rules, in order (the first that holds):
--   unregistered        a table in schema backup without metadata      review   (adopt it, or drop it by hand)
--   archived            moved to cold storage                          keep
--   archive-damaged     the same, but its last verification failed     keep     (check reports it)
--   missing             a metadata row whose table is gone             delete   (a stale row; nothing to lose)
--   invalid-date        its backup_date is no date ('infinity', BC)    review   (nothing is decided by it)
--   forever-review-due  kept forever (critical), its review is due     review
--   forever             kept forever, next review later                keep
--   young               younger than the kind's keep_for               keep
--   reviewed            a review acknowledged recently                 keep     (until the next is due)
--   expired-<action>    older than keep_for                            the kind's action: delete, review, archive
-- then two floors that only ever make a decision safer:
--   newest              the newest existing backup of its source table  keep, whatever the rule said
--   depended            something depends on it (a view, a foreign key) review instead of delete
-- and, only when asked (SET LOCAL backup.prune_redundant = on: `prune --redundant`):
--   redundant           identical to a newer backup of its table         delete (otherwise the reason says it)
--
-- Costs: O(n) hash joins over the n backups, every age worded in two calls (O(n)), O(s log n) for
-- the s source tables (one index probe each for the newest), O(k log n) for the k deletes (one
-- pg_depend probe each); with only_names (prune batches, the TUI's first screen), O(m log n) for
-- m names.

DROP FUNCTION IF EXISTS backup.plan_prune(timestamptz, text[]);
DROP FUNCTION IF EXISTS backup.plan_rows(timestamptz, text[]);

CREATE FUNCTION backup.plan_rows(at timestamptz DEFAULT backup.as_of(), only_names text[] DEFAULT NULL)
RETURNS TABLE (id uuid, original_table_name text, backup_table_name text, backup_date timestamptz,
               row_count bigint, backup_reason text, created_at timestamptz, created_by text,
               source_schema text, backup_kind text, size_bytes bigint, expires_at timestamptz,
               registered boolean, present boolean, archived boolean, age interval, age_words text,
               rule text, decision text, status text, reason text, size_exact boolean, locked_by integer,
               verified_at timestamptz, verify_result text, requested_by text, redundant_of text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
-- Hash joins and aggregates over 100k rows fit in memory instead of spilling to disk.
SET work_mem = '64MB'
-- Compiling this plan with LLVM (its estimated cost passes jit_above_cost at ~100k backups) took
-- ~1.2 s and saved nothing: the time is in function calls, not in expressions JIT speeds up.
SET jit = off
AS $$
    WITH rules (rule, decision, status, reason) AS (
        -- The reason's arguments: %1$s kind, %2$s age, %3$s kept for, %4$s review interval,
        -- %5$s time to the next review, %6$s archive location, %7$s reviewed on, %8$s source table,
        -- %9$s what depends on it, %10$s the last verification's result, %11$s a date that is not one,
        -- %12$s the hold's words, %13$s the newer backup it is identical to.
        VALUES
        ('unregistered',       'review',  'unregistered', 'not registered: adopt it (backup-tui adopt) or drop it by hand'),
        ('archived',           'keep',    'archived',     'archived to %6$s'),
        ('archive-damaged',    'keep',    'archived',     'archived to %6$s; the last verification found it %10$s'),
        ('missing',            'delete',  'missing',      'the table is gone: a stale metadata row, nothing to lose'),
        ('held',               'keep',    'keep',         '%12$s'),
        ('redundant',          'delete',  'expired',      'identical to %13$s (newer): redundant'),
        ('invalid-date',       'review',  'review',       'its backup date (%11$s) is not a date: review it, and set the date or drop it'),
        ('forever-review-due', 'review',  'review',       '%1$s: kept forever, review due (every %4$s)'),
        ('forever',            'keep',    'keep',         '%1$s: kept forever, next review in %5$s'),
        ('young',              'keep',    'keep',         '%1$s, %2$s old, kept %3$s'),
        ('reviewed',           'keep',    'keep',         '%1$s, %2$s old: reviewed %7$s, next review in %5$s'),
        ('expired-delete',     'delete',  'expired',      '%1$s, %2$s old, kept %3$s'),
        ('expired-review',     'review',  'review',       '%1$s, %2$s old, kept %3$s: review'),
        ('expired-archive',    'archive', 'archive',      '%1$s, %2$s old: move to cold storage'),
        ('newest',             'keep',    'keep',         'newest backup of %8$s: always kept'),
        ('depended',           'review',  'review',
         '%1$s, %2$s old, kept %3$s; %9$s depends on it: review, never deleted automatically')
    ), policy AS (
        -- The policy's words once per kind, not once per backup.
        SELECT p.*, backup.interval_words(p.keep_for) AS keep_words,
               backup.interval_words(p.review_every) AS review_words
          FROM backup.retention_policy p
    ), locked AS (
        SELECT * FROM backup.locked_relations()
    ), decided AS MATERIALIZED (
        -- Facts, the rule that holds and its decision, in one materialized pass (every later step
        -- reads it; a second materialized step of 100,000 wide rows cost ~100 ms). ord numbers the
        -- rows for the words below (one evaluation: the numbers must not change).
        SELECT f.*, r.decision AS policy_decision, row_number() OVER () AS ord,
               -- asked to drop what is redundant, and this one may go: the policy's own rules only
               -- (never a held, archived, missing or unregistered one; the floors below still hold)
               f.redundant_to IS NOT NULL AND current_setting('backup.prune_redundant', true) = 'on'
                   AND f.policy_rule IN ('forever', 'forever-review-due', 'young', 'reviewed', 'expired-delete',
                                         'expired-review', 'expired-archive') AS redundant_asked,
               CASE f.policy_rule
                   WHEN 'forever' THEN coalesce(f.reviewed_at, f.backup_date) + f.review_every
                   WHEN 'reviewed' THEN f.reviewed_at + coalesce(f.review_every, f.keep_for)
               END AS next_review
          FROM (
        SELECT e.*, p.keep_for, p.review_every, p.keep_words, p.review_words,
               -- identical to a newer backup that still has its table (find_redundant recorded it)
               CASE WHEN e.redundant_of IS NOT NULL
                         AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = e.redundant_of::name
                                        AND c.relnamespace = 'backup'::regnamespace)
                    THEN e.redundant_of END AS redundant_to,
               -- Exact sizes open every table: SET backup.size_estimates = on trades them for speed
               -- (the TUI's first paint, apply_prune's ordering), and a table locked elsewhere is
               -- never waited for: it gets its catalog size, marked as an estimate.
               CASE WHEN current_setting('backup.size_estimates', true) = 'on' OR lk.relid IS NOT NULL
                    THEN e.estimated_bytes
                    ELSE pg_total_relation_size(e.table_oid) END AS size_bytes,
               e.table_oid IS NOT NULL AND lk.relid IS NULL
                   AND coalesce(current_setting('backup.size_estimates', true), '') <> 'on' AS size_exact,
               lk.pid AS locked_by,
               at - e.backup_date AS age,
               CASE
                   WHEN NOT e.registered THEN 'unregistered'
                   WHEN e.archive_location IS NOT NULL AND e.verify_result IN ('damaged', 'unreadable')
                       THEN 'archive-damaged'
                   WHEN e.archive_location IS NOT NULL THEN 'archived'
                   WHEN e.table_oid IS NULL THEN 'missing'
                   WHEN e.held_at IS NOT NULL AND (e.hold_until IS NULL OR e.hold_until > at) THEN 'held'
                   WHEN e.invalid_date IS NOT NULL THEN 'invalid-date'
                   WHEN p.keep_for IS NULL THEN
                       CASE WHEN coalesce(e.reviewed_at, e.backup_date) + p.review_every <= at
                            THEN 'forever-review-due' ELSE 'forever' END
                   WHEN e.backup_date + p.keep_for > at THEN 'young'
                   WHEN e.reviewed_at IS NOT NULL
                        AND e.reviewed_at + coalesce(p.review_every, p.keep_for) > at THEN 'reviewed'
                   ELSE 'expired-' || p.action
               END AS policy_rule
          FROM (SELECT * FROM backup.backup_entries WHERE only_names IS NULL
                UNION ALL  -- one branch runs: the other's condition is false from the start
                SELECT * FROM backup.named_entries(only_names) WHERE only_names IS NOT NULL) e
          LEFT JOIN policy p ON p.backup_kind = e.backup_kind
          LEFT JOIN locked lk ON lk.relid = e.table_oid
          ) f
          JOIN rules r ON r.rule = f.policy_rule
    ), words AS (
        -- Every age and every time to a review worded in two calls, not two calls a row (see
        -- ages_words), back in row order: w.o = d.ord.
        SELECT w.o, w.age_words, w.review_in
          FROM unnest(backup.ages_words(ARRAY(SELECT d.age FROM decided d ORDER BY d.ord)),
                      backup.ages_words(ARRAY(SELECT d.next_review - at FROM decided d ORDER BY d.ord)))
               WITH ORDINALITY w(age_words, review_in, o)
    ), newest AS (
        -- The newest existing backup of each source table in scope (ties: the greatest name): one
        -- probe of the (source, date) index per source, O(sources × log n), not a sort of every row.
        SELECT n.backup_table_name
          FROM (SELECT DISTINCT d.source_schema, d.original_table_name
                  FROM decided d WHERE d.registered AND d.policy_decision <> 'keep') s
          CROSS JOIN LATERAL (
              SELECT m.backup_table_name
                FROM backup.backup_metadata m
               WHERE m.source_schema = s.source_schema AND m.original_table_name = s.original_table_name
                 -- a row dated 'infinity' is not the newest: it must not take the floor from the one
                 -- that is (a range, so the index still serves the order)
                 AND m.backup_date >= '0001-01-01 00:00:00+00'::timestamptz
                 AND m.backup_date < '10000-01-01 00:00:00+00'::timestamptz
                 AND EXISTS (SELECT 1 FROM pg_class c
                              WHERE c.relname = m.backup_table_name::name
                                AND c.relnamespace = 'backup'::regnamespace)
               ORDER BY m.backup_date DESC, m.backup_table_name DESC
               LIMIT 1) n
    ), depended AS (
        -- Deletes something depends on, named, in one set-based call.
        SELECT d.table_oid, string_agg(d.dependant, ', ' ORDER BY d.dependant) AS dependants
          FROM backup.dependants(ARRAY(SELECT x.table_oid FROM decided x
                                        WHERE (x.policy_decision = 'delete' OR x.redundant_asked)
                                          AND x.table_oid IS NOT NULL)) d
         GROUP BY d.table_oid
    ), ruled AS (
        SELECT d.*, dep.dependants,
               CASE WHEN d.policy_decision <> 'keep' AND d.registered AND n.backup_table_name IS NOT NULL
                        THEN 'newest'
                    WHEN dep.dependants IS NOT NULL THEN 'depended'
                    WHEN d.redundant_asked THEN 'redundant'
                    ELSE d.policy_rule END AS rule,
               w.age_words, w.review_in
          FROM decided d
          JOIN words w ON w.o = d.ord
          LEFT JOIN newest n ON n.backup_table_name = d.backup_table_name
          LEFT JOIN depended dep ON dep.table_oid = d.table_oid
                                AND (d.policy_decision = 'delete' OR d.redundant_asked)
    )
    SELECT x.id, x.original_table_name, x.backup_table_name, x.backup_date, x.row_count, x.backup_reason,
           x.created_at, x.created_by, x.source_schema, x.backup_kind, x.size_bytes,
           x.backup_date + x.keep_for, x.registered, x.table_oid IS NOT NULL, x.archive_location IS NOT NULL,
           x.age, CASE WHEN x.invalid_date IS NOT NULL THEN 'invalid date' ELSE x.age_words END,
           x.rule, r.decision, r.status,
           format(r.reason, x.backup_kind, x.age_words, x.keep_words, x.review_words,
                  x.review_in, x.archive_location, to_char(x.reviewed_at, 'YYYY-MM-DD'),
                  format('%s.%s', x.source_schema, x.original_table_name), x.dependants, x.verify_result,
                  x.invalid_date,
                  -- only for a held row: a function with its own search_path is never inlined, and
                  -- a call on each of 100,000 rows is what ages_words exists to avoid
                  CASE WHEN x.rule = 'held'
                       THEN backup.hold_words(x.held_at, x.held_by, x.hold_reason, x.hold_until, at) END,
                  x.redundant_to)
           || CASE WHEN x.redundant_to IS NOT NULL AND x.rule <> 'redundant'
                   THEN format('; identical to %s (newer): redundant', x.redundant_to) ELSE '' END,
           x.size_exact, x.locked_by, x.verified_at, x.verify_result, x.requested_by, x.redundant_to
      FROM ruled x
      JOIN rules r ON r.rule = x.rule
$$;

-- What the policy will do, and why, for every backup. Preview only: nothing changes.
CREATE FUNCTION backup.plan_prune(at timestamptz DEFAULT backup.as_of(), only_names text[] DEFAULT NULL)
RETURNS TABLE (backup_table_name text, original_table_name text, source_schema text, backup_kind text,
               backup_date timestamptz, age interval, size_bytes bigint, decision text, reason text,
               age_words text, rule text, size_exact boolean, locked_by integer, redundant_of text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.backup_table_name, r.original_table_name, r.source_schema, r.backup_kind, r.backup_date,
           r.age, r.size_bytes, r.decision, r.reason, r.age_words, r.rule, r.size_exact, r.locked_by,
           r.redundant_of
      FROM backup.plan_rows(at, only_names) r
$$;
