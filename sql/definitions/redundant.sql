-- requires: basics
-- Redundant copies (#27): a backup identical to a newer backup of the same table adds nothing.
-- fingerprint_of reads a table once: its row count, the sum of its rows' hashes (order does not
-- matter) and a digest of its columns (names and types). find_redundant fingerprints each backup
-- that has none yet (once: a backup never changes), then confirms every match with an exact
-- comparison of the rows as text (EXCEPT ALL both ways: a hash collision cannot make two backups
-- "identical") before it records redundant_of. A table locked elsewhere is skipped, for next time.

CREATE OR REPLACE FUNCTION backup.fingerprint_of(rel oid)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rows bigint;
    v_sum numeric;
    v_columns text;
BEGIN
    SELECT md5(string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ',' ORDER BY a.attnum))
      INTO v_columns
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM %s t', rel::regclass)
       INTO v_rows, v_sum;
    RETURN format('%s:%s:%s', v_rows, v_sum, v_columns);
END
$fn$;

CREATE OR REPLACE FUNCTION backup.find_redundant()
RETURNS TABLE (backup_table_name text, redundant_of text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_same boolean;
BEGIN
    FOR r IN SELECT m.id, c.oid
               FROM backup.backup_metadata m
               JOIN pg_class c ON c.relname = m.backup_table_name::name AND c.relnamespace = 'backup'::regnamespace
                              AND c.relkind IN ('r', 'p')
              WHERE m.fingerprint IS NULL
    LOOP
        BEGIN
            UPDATE backup.backup_metadata b SET fingerprint = backup.fingerprint_of(r.oid) WHERE b.id = r.id;
        EXCEPTION WHEN lock_not_available THEN
            NULL;  -- held elsewhere: fingerprinted next time
        END;
    END LOOP;
    FOR r IN SELECT b.id, b.backup_table_name AS older, n.backup_table_name AS newer
               FROM backup.backup_metadata b
               LEFT JOIN backup.retention_policy pb ON pb.backup_kind = b.backup_kind
               CROSS JOIN LATERAL (
                   SELECT x.backup_table_name FROM backup.backup_metadata x
                     LEFT JOIN backup.retention_policy px ON px.backup_kind = x.backup_kind
                    WHERE x.source_schema = b.source_schema AND x.original_table_name = b.original_table_name
                      AND x.fingerprint = b.fingerprint
                      -- kept at least as long: an older monthly is not redundant because of a newer
                      -- daily that goes in a week
                      AND (px.keep_for IS NULL OR (pb.keep_for IS NOT NULL AND px.keep_for >= pb.keep_for))
                      AND (x.backup_date, x.backup_table_name) > (b.backup_date, b.backup_table_name)
                      AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = x.backup_table_name::name
                                     AND c.relnamespace = 'backup'::regnamespace)
                    ORDER BY x.backup_date DESC, x.backup_table_name DESC
                    LIMIT 1) n
              WHERE b.fingerprint IS NOT NULL AND b.redundant_of IS DISTINCT FROM n.backup_table_name
                AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = b.backup_table_name::name
                               AND c.relnamespace = 'backup'::regnamespace)
    LOOP
        BEGIN
            EXECUTE format('SELECT NOT EXISTS ((SELECT t::text FROM backup.%1$I t EXCEPT ALL SELECT t::text FROM backup.%2$I t) '
                           'UNION ALL (SELECT t::text FROM backup.%2$I t EXCEPT ALL SELECT t::text FROM backup.%1$I t))',
                           r.older, r.newer)
               INTO v_same;
        EXCEPTION WHEN lock_not_available THEN
            v_same := false;  -- held elsewhere: confirmed next time
        END;
        IF v_same THEN
            UPDATE backup.backup_metadata b SET redundant_of = r.newer WHERE b.id = r.id;
        END IF;
    END LOOP;
    RETURN QUERY
        SELECT m.backup_table_name, m.redundant_of FROM backup.backup_metadata m
         WHERE m.redundant_of IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = m.redundant_of::name
                          AND c.relnamespace = 'backup'::regnamespace)
         ORDER BY 1;
END
$fn$;
