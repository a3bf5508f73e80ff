-- requires: basics
-- backup.create_table_backup: the only way the product copies a live table. SECURITY INVOKER:
-- the copy is made with the caller's own rights on the source table, so it holds exactly what the
-- caller may read; and with row_security off, so a caller whom a row-level security policy would
-- show only some rows gets an error instead of a partial copy recorded as whole.

-- The legacy function's parameters are p_table_name and p_reason (supabase-js rpc() sends them by
-- name); 0.1 had renamed them, which CREATE OR REPLACE cannot undo.
DO $legacy$
BEGIN
    IF to_regprocedure('backup.create_table_backup(text, text)') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                        WHERE oid = pg_catalog.to_regprocedure('backup.create_table_backup(text, text)')
                          AND proargnames = ARRAY['p_table_name', 'p_reason']) THEN
        DROP FUNCTION backup.create_table_backup(text, text);
    END IF;
END
$legacy$;

CREATE OR REPLACE FUNCTION backup.create_table_backup(table_name text, reason text, kind text,
                                                      source_schema text DEFAULT 'public')
RETURNS text
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- A query that row-level security would filter raises instead of returning some rows.
SET row_security = off
-- The ANALYZE below is for relpages/reltuples (the planner, catalog size estimates), not for rich
-- column statistics on a copy nobody queries much: a tenth of the default sample keeps a backup of
-- a big table close to the cost of a bare CREATE TABLE AS.
SET default_statistics_target = 10
AS $fn$
#variable_conflict use_variable
DECLARE
    v_relkind "char";
    v_rls     boolean;
    v_stamp   text := to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD_HH24MISS');
    v_suffix  text;
    v_name    text;
    v_n       integer := 1;
    v_rows    bigint;
    v_bytes   bigint;
    v_reader  text;
BEGIN
    IF table_name IS NULL OR btrim(table_name) = '' THEN
        RAISE EXCEPTION 'a table name is required' USING ERRCODE = '22023';
    END IF;
    source_schema := coalesce(nullif(btrim(source_schema), ''), 'public');
    kind := coalesce(nullif(btrim(kind), ''), 'manual');

    IF NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = kind) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind
            USING ERRCODE = '22023',
                  HINT = 'known kinds: ' || (SELECT string_agg(p.backup_kind, ', ' ORDER BY p.backup_kind)
                                               FROM backup.retention_policy p);
    END IF;
    IF source_schema = 'backup' THEN
        RAISE EXCEPTION 'cannot back up backup.%: tables in schema backup are backups themselves',
            quote_ident(table_name) USING ERRCODE = '42809';
    END IF;

    SELECT c.relkind, c.relrowsecurity INTO v_relkind, v_rls
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = source_schema AND c.relname = table_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% does not exist', quote_ident(source_schema), quote_ident(table_name)
            USING ERRCODE = '42P01';
    END IF;
    IF v_relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '%.% is a %, not a table', quote_ident(source_schema), quote_ident(table_name),
            CASE v_relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                           WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' ELSE 'relation' END
            USING ERRCODE = '42809';
    END IF;

    -- <table>_backup_<UTC stamp>[_N]: N makes several backups within one second (or one
    -- transaction, where now() stands still) unique. A base too long for 63 bytes is cut and
    -- given a hash of the full name, so the stamp always survives. Concurrent sessions cannot see
    -- each other's uncommitted tables, so a name is claimed first with a transaction-scoped
    -- advisory lock that never waits: a name another session holds is skipped, one it committed is
    -- seen; any error a collision can still raise (a table or type of that name) means the next N.
    LOOP
        v_suffix := '_backup_' || v_stamp || CASE WHEN v_n > 1 THEN '_' || v_n ELSE '' END;
        IF octet_length(table_name) + octet_length(v_suffix) <= 63 THEN
            v_name := table_name || v_suffix;
        ELSE
            v_name := backup.truncate_bytes(table_name, 63 - octet_length(v_suffix) - 7)
                      || '_' || left(md5(source_schema || '.' || table_name), 6) || v_suffix;
        END IF;
        IF pg_try_advisory_xact_lock(hashtext('backup-tui backup name'), hashtext(v_name))
           AND NOT EXISTS (SELECT 1 FROM pg_class c
                            WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = v_name)
           AND NOT EXISTS (SELECT 1 FROM pg_type t
                            WHERE t.typnamespace = 'backup'::regnamespace AND t.typname = v_name)
           AND NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = v_name) THEN
            BEGIN
                EXECUTE format('CREATE TABLE backup.%I AS TABLE %I.%I', v_name, source_schema, table_name);
                EXIT;
            EXCEPTION
                WHEN duplicate_table OR duplicate_object OR unique_violation THEN
                    NULL;  -- taken after all (by a session that does not claim names): the next one
                WHEN insufficient_privilege THEN
                    IF SQLERRM LIKE '%row-level security%' THEN
                        RAISE EXCEPTION 'table %.% has row-level security and % would copy only the rows its '
                                        'policies let it see: nothing was copied',
                            quote_ident(source_schema), quote_ident(table_name), current_user
                            USING ERRCODE = '42501',
                                  HINT = 'back it up as the table''s owner (without FORCE ROW LEVEL SECURITY) '
                                         'or as a role with BYPASSRLS';
                    END IF;
                    RAISE;
            END;
        END IF;
        v_n := v_n + 1;
    END LOOP;

    -- CREATE TABLE AS reports the rows it wrote: no second scan of the copy.
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rls THEN
        -- The copy holds rows the source's policies guard: no policies here, so deny by default.
        -- (ALTER TABLE backup.<name> DISABLE ROW LEVEL SECURITY lifts it, if that is the intent.)
        EXECUTE format('ALTER TABLE backup.%I ENABLE ROW LEVEL SECURITY', v_name);
    END IF;
    -- Operators (roles `backup-tui grant --operator` gave drop rights to) read backups to archive them.
    FOR v_reader IN
        SELECT a.grantee::regrole::text
          FROM pg_proc p, aclexplode(p.proacl) a
         WHERE p.oid = 'backup.drop_table_backup(text)'::regprocedure AND a.grantee <> 0
           AND a.grantee <> p.proowner AND a.privilege_type = 'EXECUTE'
    LOOP
        EXECUTE format('GRANT SELECT ON backup.%I TO %s', v_name, v_reader);
    END LOOP;
    EXECUTE format('ANALYZE backup.%I', v_name);
    v_bytes := pg_total_relation_size(format('backup.%I', v_name)::regclass);

    -- backup.schedule_id: set (transaction-locally) by backup.run_schedule for the backups it makes.
    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                        backup_reason, created_by, source_schema, backup_kind, schedule_id)
    VALUES (table_name, v_name, now(), v_rows, reason, session_user, source_schema, kind,
            nullif(current_setting('backup.schedule_id', true), '')::bigint);

    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('create', v_name, source_schema, table_name, v_rows, v_bytes,
            jsonb_build_object('kind', kind, 'reason', reason, 'row_security', v_rls));

    RETURN v_name;
END
$fn$;

-- The 2025 signature and parameter names. Its callers wrote 'Pre-migration backup' as the
-- reason; keep their kind.
CREATE OR REPLACE FUNCTION backup.create_table_backup(p_table_name text, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE sql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT backup.create_table_backup(
        p_table_name, p_reason,
        CASE WHEN lower(btrim(p_reason)) LIKE 'pre-migration%' THEN 'pre-migration' ELSE 'manual' END,
        'public')
$$;
