-- requires: words
-- Tables someone else holds, or waits for, an ACCESS EXCLUSIVE lock on: reading their size (or
-- anything else) would queue behind that lock. From pg_locks, so asking takes no lock itself. The
-- plan gives such backups their catalog size, marked as an estimate, instead of waiting.
CREATE OR REPLACE FUNCTION backup.locked_relations()
RETURNS TABLE (relid oid, pid integer)
LANGUAGE sql STABLE
-- Usually none: with the default guess (1,000 rows) the plan sorted all 100,000 backups to
-- merge-join them with it (~45 ms at 100,000); a hash of the few there are is enough.
ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT ON (l.relation) l.relation, l.pid  -- pid is NULL for a prepared transaction
      FROM pg_locks l
     WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
       AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND l.pid IS DISTINCT FROM pg_backend_pid()
     ORDER BY l.relation, l.granted DESC, l.pid
$$;

-- Who holds a lock on a table we waited for in vain, in words for the lock-timeout message:
-- 'pid 4242 (alice, psql, idle in transaction for 3 minutes)'; NULL when nobody does any more.
-- A role that may not see another's activity still gets its pid and user.
CREATE OR REPLACE FUNCTION backup.lock_holder(relid oid)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN l.pid IS NULL THEN 'a prepared transaction (pg_prepared_xacts)' ELSE
           format('pid %s (%s%s, %s for %s)', l.pid, a.usename,
                  CASE WHEN a.application_name <> '' THEN ', ' || a.application_name ELSE '' END,
                  coalesce(a.state, 'in a transaction'),
                  backup.age_words(now() - coalesce(a.state_change, a.xact_start, a.backend_start))) END
      FROM pg_locks l
      LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'relation' AND l.relation = relid AND l.granted
       AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND l.pid IS DISTINCT FROM pg_backend_pid()
     ORDER BY l.pid
     LIMIT 1
$$;

-- Lock one of our backup tables in `mode`, waiting at most lock_timeout; when that runs out, the
-- error (still lock_not_available) names who holds the table. Every lock a write of ours takes on
-- a backup goes through here: one wording for the on-call engineer.
CREATE OR REPLACE FUNCTION backup.lock_backup(backup_table_name text, mode text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
BEGIN
    IF mode NOT IN ('ACCESS EXCLUSIVE', 'SHARE ROW EXCLUSIVE') THEN
        RAISE EXCEPTION 'not a lock mode of ours: %', mode USING ERRCODE = '22023';
    END IF;
    EXECUTE format('LOCK TABLE backup.%I IN %s MODE', backup_table_name, mode);
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'backup.% is held by %', quote_ident(backup_table_name),
        coalesce(backup.lock_holder(to_regclass(format('backup.%I', backup_table_name))::oid),
                 'another session (gone since)')
        USING ERRCODE = '55P03';
END
$fn$;
