-- requires: basics
-- Registers an unregistered table: source and date inferred from the legacy name patterns
-- (<t>_backup_YYYY_MM_DD, <t>_backup_YYYYMMDD, <t>_backup_YYYY_MM_DD_HH24MISS) unless given;
-- the exact row count is recorded; audited.
CREATE OR REPLACE FUNCTION backup.adopt_backup(backup_table_name text, source_table text DEFAULT NULL,
                                               kind text DEFAULT 'manual', reason text DEFAULT NULL,
                                               source_schema text DEFAULT 'public')
RETURNS TABLE (source_table_name text, backup_date timestamptz, row_count bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- The count below is the owner's: no policy decides it (a table that forces row-level security on
-- its owner raises instead), and only tables the owner owns are counted (backup.not_ours).
SET row_security = off
AS $fn$
#variable_conflict use_variable
DECLARE
    v_source text;
    v_date   timestamptz;
    v_rows   bigint;
    v_oid    oid;
BEGIN
    PERFORM backup.refuse_internal(backup_table_name);
    SELECT c.oid INTO v_oid FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name AND c.relkind IN ('r', 'p');
    IF v_oid IS NULL THEN
        RAISE EXCEPTION 'no table named % in schema backup', quote_ident(backup_table_name) USING ERRCODE = '42P01';
    END IF;
    IF backup.not_ours(v_oid) IS NOT NULL THEN
        RAISE EXCEPTION 'cannot adopt backup.%: %', quote_ident(backup_table_name), backup.not_ours(v_oid)
            USING ERRCODE = '42501',
                  HINT = format('check it, then: ALTER TABLE backup.%I OWNER TO %s', backup_table_name,
                                backup.owner_role());
    END IF;
    IF EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = backup_table_name) THEN
        RAISE EXCEPTION 'backup.% is already registered', quote_ident(backup_table_name) USING ERRCODE = '42710';
    END IF;
    kind := coalesce(nullif(btrim(kind), ''), 'manual');
    IF NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = kind) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind USING ERRCODE = '22023';
    END IF;
    SELECT p.source_table, p.backup_date INTO v_source, v_date FROM backup.parse_backup_name(backup_table_name) p;
    v_source := coalesce(nullif(btrim(source_table), ''), v_source);
    IF v_source IS NULL THEN
        RAISE EXCEPTION 'cannot infer the source table of backup.% from its name', quote_ident(backup_table_name)
            USING ERRCODE = '22023', HINT = 'name it: backup-tui adopt NAME --source TABLE';
    END IF;
    EXECUTE format('SELECT count(*) FROM backup.%I', backup_table_name) INTO v_rows;
    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                        backup_reason, created_by, source_schema, backup_kind)
    VALUES (v_source, backup_table_name, coalesce(v_date, now()), v_rows,
            coalesce(reason, 'adopted by backup-tui'), session_user, coalesce(source_schema, 'public'), kind);
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, size_bytes,
                                     detail)
    VALUES ('adopt', backup_table_name, coalesce(source_schema, 'public'), v_source, v_rows,
            pg_total_relation_size(v_oid),
            jsonb_build_object('kind', kind, 'date_inferred', v_date IS NOT NULL));
    source_table_name := v_source;
    backup_date := coalesce(v_date, now());
    row_count := v_rows;
    RETURN NEXT;
END
$fn$;
