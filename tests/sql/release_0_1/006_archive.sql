-- 006: cold storage. An archived backup's table leaves the database; its metadata row stays
-- (columns in 001), with where the archive lives, so the inventory lists it and restore finds it.

-- Called once the archive is written and verified: drops the table, keeps the row as archived.
-- The same refusals as drop_table_backup (not a registered backup, something depends on it).
CREATE OR REPLACE FUNCTION backup.archive_table_backup(backup_table_name text, location text, manifest jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m       backup.backup_metadata%ROWTYPE;
    v_oid   oid;
    v_bytes bigint;
    v_deps  text;
BEGIN
    IF backup_table_name = ANY (backup.internal_tables()) THEN
        RAISE EXCEPTION 'backup.% is part of the backup schema itself, not a backup', quote_ident(backup_table_name)
            USING ERRCODE = '42809';
    END IF;
    IF location IS NULL OR btrim(location) = '' THEN
        RAISE EXCEPTION 'an archive location is required' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO m FROM backup.backup_metadata b WHERE b.backup_table_name = backup_table_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no registered backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;
    SELECT c.oid INTO v_oid FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name AND c.relkind IN ('r', 'p');
    IF v_oid IS NULL THEN
        RAISE EXCEPTION 'backup.% has no table to archive (already archived or missing)',
            quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    EXECUTE format('LOCK TABLE backup.%I IN ACCESS EXCLUSIVE MODE', backup_table_name);
    SELECT string_agg(d, ', ' ORDER BY d) INTO v_deps FROM backup.backup_dependants(v_oid) d;
    IF v_deps IS NOT NULL THEN
        RAISE EXCEPTION 'cannot archive backup %: % depends on it', quote_ident(backup_table_name), v_deps
            USING ERRCODE = '2BP01';
    END IF;
    v_bytes := pg_total_relation_size(v_oid);
    EXECUTE format('DROP TABLE backup.%I', backup_table_name);
    UPDATE backup.backup_metadata b
       SET archived_at = now(), archive_location = location, archive_manifest = manifest
     WHERE b.id = m.id;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('archive', backup_table_name, m.source_schema, m.original_table_name, m.row_count, v_bytes,
            jsonb_build_object('location', location, 'sha256', manifest->>'sha256'));
    RETURN v_bytes;
END
$fn$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
