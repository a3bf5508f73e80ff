-- requires: basics
-- backup.create_table_backup: the only way the product copies a live table. The copy is made by
-- the schema's owner (SECURITY DEFINER: nobody else may create anything in schema backup), but only
-- of what its maker may read whole: backup.may_copy checks the caller's own rights on every column
-- and that no row-level security policy hides rows from it, and the copy runs with row_security
-- off, so a policy never decides what is copied. A scheduled backup (backup.run_schedule) is made
-- the same way, for the schedule's author. A new backup is readable by its maker, the owner, and
-- the operators who may read the source: never by default privileges, never by PUBLIC.

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

-- The copy itself, for backup.create_table_backup and backup.run_schedule (never executable by
-- anyone but the owner: `maker` is whose rights the backup is made with, and only those two say).
CREATE OR REPLACE FUNCTION backup.make_backup(table_name text, reason text, kind text, source_schema text,
                                              maker text, schedule_id bigint)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- A copy is whole or refused: a query that row-level security would filter raises instead.
SET row_security = off
-- The ANALYZE below is for relpages/reltuples (the planner, catalog size estimates), not for rich
-- column statistics on a copy nobody queries much: a tenth of the default sample keeps a backup of
-- a big table close to the cost of a bare CREATE TABLE AS.
SET default_statistics_target = 10
AS $fn$
#variable_conflict use_variable
DECLARE
    v_source  oid;
    v_relkind "char";
    v_why     text;
    v_rls     boolean;
    v_stamp   text := to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD_HH24MISS');
    v_suffix  text;
    v_name    text;
    v_n       integer := 1;
    v_rows    bigint;
    v_bytes   bigint;
    v_oid     oid;
    v_reader  text;
    v_columns text;
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

    SELECT c.oid, c.relrowsecurity, c.relkind INTO v_source, v_rls, v_relkind
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
    v_why := backup.may_copy(maker, v_source);
    IF v_why LIKE '%row-level security%' THEN
        RAISE EXCEPTION 'table %.% has row-level security and % would copy only the rows its '
                        'policies let it see: nothing was copied',
            quote_ident(source_schema), quote_ident(table_name), quote_ident(maker)
            USING ERRCODE = '42501',
                  HINT = 'back it up as the table''s owner (without FORCE ROW LEVEL SECURITY) '
                         'or as a role with BYPASSRLS';
    ELSIF v_why LIKE '%may not read%' THEN
        RAISE EXCEPTION 'permission denied: % (a backup holds only what its maker may read)', v_why
            USING ERRCODE = '42501', HINT = 'GRANT SELECT on the table to the role that makes the backup';
    ELSIF v_why IS NOT NULL THEN
        RAISE EXCEPTION 'cannot back up %.%: %', quote_ident(source_schema), quote_ident(table_name), v_why
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
                    -- The maker may read it (checked above); the schema's owner, who copies, may not.
                    RAISE EXCEPTION 'cannot back up %.%: the backup schema''s owner % may not read it whole (%)',
                        quote_ident(source_schema), quote_ident(table_name), current_user, SQLERRM
                        USING ERRCODE = '42501',
                              HINT = format('GRANT SELECT ON %I.%I TO %I (backups are made by the schema''s owner)',
                                            source_schema, table_name, current_user);
            END;
        END IF;
        v_n := v_n + 1;
    END LOOP;

    -- CREATE TABLE AS reports the rows it wrote: no second scan of the copy.
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_oid := format('backup.%I', v_name)::regclass::oid;
    IF v_rls THEN
        -- The copy holds rows the source's policies guard: no policies here, so deny by default.
        -- (ALTER TABLE backup.<name> DISABLE ROW LEVEL SECURITY lifts it, if that is the intent.)
        EXECUTE format('ALTER TABLE backup.%I ENABLE ROW LEVEL SECURITY', v_name);
    END IF;
    -- Whatever default privileges (of this schema, or global ones of the owner) handed out goes:
    -- a backup is readable by its maker and by the operators who may read its source, no one else.
    FOR v_reader IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.oid = v_oid AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON backup.%I FROM %s', v_name, v_reader);
    END LOOP;
    FOR v_reader IN
        SELECT r.rolname::text FROM pg_roles r
         WHERE r.rolname NOT IN ('anon', 'authenticated')
           AND r.oid <> (SELECT c.relowner FROM pg_class c WHERE c.oid = v_oid)
           AND (r.rolname = maker
                OR (r.oid IN (SELECT a.grantee FROM pg_proc p, aclexplode(p.proacl) a
                               WHERE p.oid = 'backup.drop_table_backup(text)'::regprocedure
                                 AND a.privilege_type = 'EXECUTE')
                    AND backup.may_copy(r.rolname::text, v_source) IS NULL))
    LOOP
        EXECUTE format('GRANT SELECT ON backup.%I TO %I', v_name, v_reader);
    END LOOP;
    -- ANALYZE would run a range type's subtype_diff function, which its type's owner wrote: such
    -- columns are left out (relpages and reltuples are recorded all the same).
    IF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v_oid AND a.attnum > 0 AND NOT a.attisdropped
                                              AND NOT backup.analyze_safe(a.atttypid)) THEN
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_columns
          FROM pg_attribute a
         WHERE a.attrelid = v_oid AND a.attnum > 0 AND NOT a.attisdropped AND backup.analyze_safe(a.atttypid);
        IF v_columns IS NOT NULL THEN
            EXECUTE format('ANALYZE backup.%I (%s)', v_name, v_columns);
        END IF;
    ELSE
        EXECUTE format('ANALYZE backup.%I', v_name);
    END IF;
    v_bytes := pg_total_relation_size(v_oid);

    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                        backup_reason, created_by, source_schema, backup_kind, schedule_id)
    VALUES (table_name, v_name, now(), v_rows, reason, session_user, source_schema, kind, schedule_id);

    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('create', v_name, source_schema, table_name, v_rows, v_bytes,
            jsonb_strip_nulls(jsonb_build_object(
                'kind', kind, 'reason', reason, 'row_security', v_rls, 'schedule', schedule_id,
                'for', CASE WHEN maker IS DISTINCT FROM session_user::text THEN maker END)));

    RETURN v_name;
END
$fn$;

-- Executable by operators: the caller's effective role (backup.caller) is the maker.
CREATE OR REPLACE FUNCTION backup.create_table_backup(table_name text, reason text, kind text,
                                                      source_schema text DEFAULT 'public')
RETURNS text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT backup.make_backup(table_name, reason, kind, source_schema, backup.caller(), NULL::bigint) $$;

-- The 2025 signature and parameter names. Its callers wrote 'Pre-migration backup' as the
-- reason; keep their kind.
CREATE OR REPLACE FUNCTION backup.create_table_backup(p_table_name text, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE sql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT backup.create_table_backup(
        p_table_name, p_reason,
        CASE WHEN lower(btrim(p_reason)) LIKE 'pre-migration%' THEN 'pre-migration'::text ELSE 'manual'::text END,
        'public'::text)
$$;
