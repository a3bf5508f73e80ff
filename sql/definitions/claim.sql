-- requires: basics, dependants, locks, holds
-- What drop and archive do before they touch a backup, in one place: refuse the schema's own
-- tables and anything unregistered, lock the metadata row (a concurrent second call waits, then
-- finds nothing), lock the table (lock_timeout bounds the wait) and refuse when something depends
-- on it, or that another role owns. Returns the metadata row and the table's oid (NULL when the table is gone).
CREATE OR REPLACE FUNCTION backup.claim_backup(backup_table_name text, action text,
                                               OUT meta backup.backup_metadata, OUT table_oid oid)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    v_last record;
    v_deps text;
    v_hold text;
BEGIN
    PERFORM backup.refuse_internal(backup_table_name);
    SELECT * INTO meta FROM backup.backup_metadata b WHERE b.backup_table_name = backup_table_name FOR UPDATE;
    IF NOT FOUND THEN
        SELECT a.at, a.actor, a.action INTO v_last FROM backup.backup_audit a
         WHERE a.backup_table_name = backup_table_name AND a.action LIKE 'drop%'
         ORDER BY a.at DESC LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'backup % was already dropped (by % at %)',
                quote_ident(backup_table_name), v_last.actor, v_last.at USING ERRCODE = 'P0002';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_class c
                    WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name) THEN
            RAISE EXCEPTION 'backup.% is not a registered backup', quote_ident(backup_table_name)
                USING ERRCODE = '42809', HINT = 'register it with backup-tui adopt first';
        END IF;
        RAISE EXCEPTION 'no backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;

    v_hold := backup.hold_words(meta.held_at, meta.held_by, meta.hold_reason, meta.hold_until, now());
    IF v_hold IS NOT NULL THEN
        RAISE EXCEPTION 'cannot % backup %: it is %', action, quote_ident(backup_table_name), v_hold
            USING ERRCODE = '42809', HINT = format('release it first: backup-tui release %s', backup_table_name);
    END IF;

    SELECT c.oid INTO table_oid FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name AND c.relkind IN ('r', 'p');
    IF table_oid IS NULL AND meta.archive_location IS NOT NULL THEN
        -- Its archive is the only copy: dropping the row would lose the way back to it.
        RAISE EXCEPTION 'backup % exists only in its archive at %: % would lose the way back to it',
            quote_ident(backup_table_name), meta.archive_location, action
            USING ERRCODE = '42809',
                  HINT = 'to stop tracking it (the files stay): backup-tui drop --forget-archive, or backup.forget_archive()';
    END IF;
    IF table_oid IS NOT NULL AND backup.not_ours(table_oid) IS NOT NULL THEN
        -- The caller's request is carried out with the owner's rights: never on a table someone
        -- else controls.
        RAISE EXCEPTION 'cannot % backup %: %', action, quote_ident(backup_table_name), backup.not_ours(table_oid)
            USING ERRCODE = '42501',
                  HINT = format('check it, then: ALTER TABLE backup.%I OWNER TO %s', backup_table_name,
                                backup.owner_role());
    END IF;
    IF table_oid IS NOT NULL THEN
        -- Lock first so the size reported is the size freed; lock_timeout bounds the wait, and
        -- its message names who holds the table (what the user needs to act on).
        PERFORM backup.lock_backup(backup_table_name, 'ACCESS EXCLUSIVE'::text);
        SELECT string_agg(d.dependant, ', ' ORDER BY d.dependant) INTO v_deps
          FROM backup.dependants(ARRAY[table_oid]) d;
        IF v_deps IS NOT NULL THEN
            RAISE EXCEPTION 'cannot % backup %: % depends on it', action, quote_ident(backup_table_name), v_deps
                USING ERRCODE = '2BP01', HINT = 'drop or change the dependent objects first; nothing was changed';
        END IF;
    END IF;
END
$fn$;
