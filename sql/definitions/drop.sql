-- requires: claim
-- Drops one backup and its metadata row together, audited; returns the bytes freed. Refuses the
-- schema's own tables, unregistered tables, anything outside schema backup and backups something
-- depends on (backup.claim_backup). A metadata row whose table is gone is removed ("drop-missing").
-- SECURITY DEFINER, executable only by the roles `backup-tui grant --operator` names: an operator
-- drops any registered backup (whoever made it) and nothing else; the audit records session_user.
CREATE OR REPLACE FUNCTION backup.drop_table_backup(backup_table_name text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    c       record;
    v_bytes bigint := 0;
BEGIN
    c := backup.claim_backup(backup_table_name, 'drop'::text);
    IF c.table_oid IS NOT NULL THEN
        v_bytes := pg_total_relation_size(c.table_oid);
        EXECUTE format('DROP TABLE backup.%I', backup_table_name);
    END IF;

    DELETE FROM backup.backup_metadata b WHERE b.id = (c.meta).id;

    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES (CASE WHEN c.table_oid IS NULL THEN 'drop-missing' ELSE 'drop' END, backup_table_name,
            (c.meta).source_schema, (c.meta).original_table_name, (c.meta).row_count, v_bytes,
            jsonb_build_object('id', (c.meta).id, 'kind', (c.meta).backup_kind, 'backup_date', (c.meta).backup_date,
                               'reason', (c.meta).backup_reason));
    RETURN v_bytes;
END
$fn$;

-- Drops several backups in one call (a round trip for a batch, not two for each), each as
-- drop_table_backup would alone, in order: one row per name with the bytes freed or why not
-- (SQLSTATE, message, hint), the others going on. A missing privilege or a cancel (statement
-- timeout, the user's stop) ends the call and undoes the batch: the next backup would be refused
-- the same way, and a stopped batch changed nothing. With the caller's rights: each drop checks
-- them as drop_table_backup does.
CREATE OR REPLACE FUNCTION backup.drop_table_backups(names text[])
RETURNS TABLE (backup_table_name text, freed_bytes bigint, error_code text, error text, hint text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY coalesce(names, '{}'::text[]) LOOP
        backup_table_name := name;
        freed_bytes := 0;
        error_code := NULL;
        error := NULL;
        hint := NULL;
        BEGIN
            freed_bytes := backup.drop_table_backup(name::text);
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS error_code = RETURNED_SQLSTATE, error = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
                hint := nullif(hint, '');
        END;
        RETURN NEXT;
    END LOOP;
END
$fn$;
