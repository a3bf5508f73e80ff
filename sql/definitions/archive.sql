-- requires: claim
-- The first step of an archive, in the client's transaction: a SHARE lock on the backup, so
-- nobody writes to it between the COPY and the drop (what was verified is what is dropped).
-- SECURITY DEFINER: an operator may read a backup (SELECT) but not lock it for writes itself.
CREATE OR REPLACE FUNCTION backup.hold_for_archive(backup_table_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
BEGIN
    PERFORM backup.refuse_internal(backup_table_name);
    IF NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = backup_table_name) THEN
        RAISE EXCEPTION 'no registered backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;
    EXECUTE format('LOCK TABLE backup.%I IN SHARE MODE', backup_table_name);
END
$fn$;

-- Cold storage: the client writes and verifies the archive (tui/db/archive.py), then calls this,
-- its commit step, in the same transaction: drops the table, keeps the metadata row as archived
-- with where the archive lives, so the inventory lists it and restore finds it.
CREATE OR REPLACE FUNCTION backup.archive_table_backup(backup_table_name text, location text, manifest jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    c       record;
    v_bytes bigint;
BEGIN
    IF location IS NULL OR btrim(location) = '' THEN
        RAISE EXCEPTION 'an archive location is required' USING ERRCODE = '22023';
    END IF;
    c := backup.claim_backup(backup_table_name, 'archive');
    IF c.table_oid IS NULL THEN
        RAISE EXCEPTION 'backup.% has no table to archive (already archived or missing)',
            quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    v_bytes := pg_total_relation_size(c.table_oid);
    EXECUTE format('DROP TABLE backup.%I', backup_table_name);
    UPDATE backup.backup_metadata b
       SET archived_at = now(), archive_location = location, archive_manifest = manifest
     WHERE b.id = (c.meta).id;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('archive', backup_table_name, (c.meta).source_schema, (c.meta).original_table_name,
            (c.meta).row_count, v_bytes, jsonb_build_object('location', location, 'sha256', manifest->>'sha256'));
    RETURN v_bytes;
END
$fn$;
