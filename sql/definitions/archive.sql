-- requires: claim, locks
-- Cold storage. The client (tui/db/archive.py) writes the archive and verifies it in the same
-- transaction that holds the backup with hold_for_archive(); archive_table_backup is its commit
-- step. The table leaves the database; the metadata row stays, archived, with the location and
-- the manifest (its sha256 and row count are what verify and restore compare with later).

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
    IF backup.not_ours(to_regclass(format('backup.%I', backup_table_name))) IS NOT NULL THEN
        RAISE EXCEPTION 'cannot archive backup %: %', quote_ident(backup_table_name),
            backup.not_ours(to_regclass(format('backup.%I', backup_table_name)))
            USING ERRCODE = '42501';
    END IF;
    -- SHARE ROW EXCLUSIVE: readers go on; writers, and a second archive of the same backup, wait.
    PERFORM backup.lock_backup(backup_table_name, 'SHARE ROW EXCLUSIVE'::text);
END
$fn$;

-- The commit step: drops the table, keeps the row as archived. It cannot record a fake archive:
-- the manifest must carry a sha256 and the table's exact row count (counted here, under the
-- lock), and the location must be given. The refusals of drop_table_backup apply (claim_backup).
CREATE OR REPLACE FUNCTION backup.archive_table_backup(backup_table_name text, location text, manifest jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- The count below is the owner's: no policy decides it (a table that forces row-level security on
-- its owner raises instead).
SET row_security = off
AS $fn$
#variable_conflict use_variable
DECLARE
    c       record;
    v_bytes bigint;
    v_rows  bigint;
BEGIN
    IF location IS NULL OR btrim(location) = '' THEN
        RAISE EXCEPTION 'an archive location is required' USING ERRCODE = '22023';
    END IF;
    IF NOT coalesce(manifest->>'sha256' ~ '^[0-9a-f]{64}$', false) THEN
        RAISE EXCEPTION 'the manifest has no sha256 of the archived data' USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(manifest->'row_count') IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION 'the manifest has no row count' USING ERRCODE = '22023';
    END IF;
    c := backup.claim_backup(backup_table_name, 'archive'::text);
    IF c.table_oid IS NULL THEN
        RAISE EXCEPTION 'backup.% has no table to archive (already archived or missing)',
            quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    EXECUTE format('SELECT count(*) FROM backup.%I', backup_table_name) INTO v_rows;
    IF v_rows <> (manifest->>'row_count')::bigint THEN
        RAISE EXCEPTION 'the manifest says % rows, backup.% has %: nothing was dropped',
            manifest->>'row_count', quote_ident(backup_table_name), v_rows USING ERRCODE = '22023';
    END IF;
    v_bytes := pg_total_relation_size(c.table_oid);
    EXECUTE format('DROP TABLE backup.%I', backup_table_name);
    UPDATE backup.backup_metadata b
       SET archived_at = now(), archive_location = location, archive_manifest = manifest,
           verified_at = now(), verify_result = 'ok', verify_detail = NULL
     WHERE b.id = (c.meta).id;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('archive', backup_table_name, (c.meta).source_schema, (c.meta).original_table_name,
            v_rows, v_bytes, jsonb_build_object('location', location, 'sha256', manifest->>'sha256'));
    RETURN v_bytes;
END
$fn$;

-- Stops tracking an archived backup: its row goes, its files stay (audited with the location, so
-- adopt_archive can bring it back). The only way to remove an archived backup's row.
CREATE OR REPLACE FUNCTION backup.forget_archive(backup_table_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m backup.backup_metadata%ROWTYPE;
BEGIN
    SELECT * INTO m FROM backup.backup_metadata b WHERE b.backup_table_name = backup_table_name FOR UPDATE;
    IF NOT FOUND OR m.archive_location IS NULL THEN
        RAISE EXCEPTION 'no archived backup named % (forget is for archived backups; drop the others)',
            quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = 'backup'::regnamespace
                                          AND c.relname = backup_table_name) THEN
        RAISE EXCEPTION 'backup.% is in the database too: drop it instead', quote_ident(backup_table_name)
            USING ERRCODE = '42809';
    END IF;
    DELETE FROM backup.backup_metadata b WHERE b.id = m.id;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, detail)
    VALUES ('forget', backup_table_name, m.source_schema, m.original_table_name, m.row_count,
            jsonb_build_object('location', m.archive_location, 'sha256', m.archive_manifest->>'sha256',
                               'id', m.id, 'kind', m.backup_kind, 'backup_date', m.backup_date));
    RETURN m.archive_location;
END
$fn$;

-- What `backup-tui verify` found: recorded on the archived backup's row for the inventory and
-- `check` ('damaged' and 'unreadable' are check findings). An operator's function: a reviewer who
-- could record 'ok' could hide a damaged archive from check.
CREATE OR REPLACE FUNCTION backup.record_verification(backup_table_name text, result text, detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
BEGIN
    IF result NOT IN ('ok', 'damaged', 'unreadable') THEN
        RAISE EXCEPTION 'a verification is ok, damaged or unreadable, not %', result USING ERRCODE = '22023';
    END IF;
    UPDATE backup.backup_metadata b
       SET verified_at = now(), verify_result = result, verify_detail = detail
     WHERE b.backup_table_name = backup_table_name AND b.archive_location IS NOT NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no archived backup named %', quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    INSERT INTO backup.backup_audit (action, backup_table_name, detail)
    VALUES ('verify', backup_table_name, jsonb_build_object('result', result, 'detail', detail));
END
$fn$;

-- Registers an archive found on disk or S3 (its manifest, read and verified by the client) back
-- into the catalogue, as archived: `backup-tui adopt --from LOCATION`.
CREATE OR REPLACE FUNCTION backup.adopt_archive(location text, manifest jsonb) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    v_name text := manifest->>'backup_table_name';
    v_kind text := coalesce(manifest->>'backup_kind', 'manual');
    v_date timestamptz;
    v_archived timestamptz;
    v_key text;
BEGIN
    -- A manifest is anyone's text: its dates must be dates a client can hold.
    FOREACH v_key IN ARRAY ARRAY['backup_date', 'archived_at'] LOOP
        BEGIN
            IF manifest->>v_key IS NOT NULL AND backup.valid_date((manifest->>v_key)::timestamptz) IS NULL THEN
                RAISE invalid_datetime_format;
            END IF;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'the manifest''s % (%) is not a date backup-tui keeps (years 1 to 9999)', v_key,
                left(manifest->>v_key, 40) USING ERRCODE = '22007';
        END;
    END LOOP;
    v_date := (manifest->>'backup_date')::timestamptz;
    v_archived := (manifest->>'archived_at')::timestamptz;
    IF v_name IS NULL OR location IS NULL OR NOT coalesce(manifest->>'sha256' ~ '^[0-9a-f]{64}$', false) THEN
        RAISE EXCEPTION 'not a backup-tui archive manifest (no backup name, location or sha256)'
            USING ERRCODE = '22023';
    END IF;
    PERFORM backup.refuse_internal(v_name);
    IF EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = v_name)
       OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = v_name) THEN
        RAISE EXCEPTION 'backup % is already in the catalogue or the database', quote_ident(v_name)
            USING ERRCODE = '42710';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = v_kind) THEN
        v_kind := 'manual';  -- a kind this database's policy does not know
    END IF;
    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                        backup_reason, created_by, source_schema, backup_kind,
                                        archived_at, archive_location, archive_manifest, verified_at, verify_result)
    VALUES (coalesce(manifest->>'source_table', v_name), v_name, coalesce(v_date, v_archived, now()),
            (manifest->>'row_count')::bigint, manifest->>'backup_reason', session_user,
            coalesce(manifest->>'source_schema', 'public'), v_kind, coalesce(v_archived, now()), location, manifest,
            now(), 'ok');
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, detail)
    VALUES ('adopt-archive', v_name, coalesce(manifest->>'source_schema', 'public'), manifest->>'source_table',
            (manifest->>'row_count')::bigint, jsonb_build_object('location', location, 'sha256', manifest->>'sha256'));
    RETURN v_name;
END
$fn$;
