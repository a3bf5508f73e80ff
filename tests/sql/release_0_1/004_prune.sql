-- 004: applying the plan. prune_batch drops what is still due among the names it is given;
-- apply_prune (for psql and pg_cron) feeds it a fresh plan in batches, committing after each:
-- one transaction for thousands of drops would run out of lock slots.

-- Re-checks each name against a fresh plan (only those names: an indexed look-up, not the
-- whole plan) and drops the ones still due for deletion, each in its own subtransaction so
-- one failure (a lock held elsewhere, a new dependant, dropped meanwhile) skips only that one.
CREATE OR REPLACE FUNCTION backup.prune_batch(names text[])
RETURNS TABLE (backup_table_name text, freed_bytes bigint, error text)
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    r record;
BEGIN
    -- Unattended callers (pg_cron) have no lock_timeout: never queue behind a long transaction.
    IF current_setting('lock_timeout') IN ('0', '0ms') THEN
        PERFORM set_config('lock_timeout', '5s', true);
    END IF;
    FOR r IN
        SELECT n.name, p.decision, p.reason
          FROM unnest(names) WITH ORDINALITY AS n(name, i)
          LEFT JOIN backup.plan_prune(backup.as_of(), names) p ON p.backup_table_name = n.name
         ORDER BY n.i
    LOOP
        backup_table_name := r.name;
        freed_bytes := 0;
        error := NULL;
        IF r.decision IS NULL THEN
            error := 'no such backup any more (dropped meanwhile?)';
        ELSIF r.decision <> 'delete' THEN
            error := format('no longer due for deletion: %s (%s)', r.decision, r.reason);
        ELSE
            BEGIN
                freed_bytes := backup.drop_table_backup(r.name);
            EXCEPTION WHEN OTHERS THEN
                error := SQLERRM;
                IF SQLSTATE = '55P03' THEN
                    error := 'lock timeout: the backup is in use; skipped, retry later';
                END IF;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- CALL backup.apply_prune();  -- or from pg_cron:
--   SELECT cron.schedule('backup-prune', '15 3 * * *', 'CALL backup.apply_prune()');
-- Must run outside an explicit transaction block (it commits after each batch).
-- No SET clause on purpose: a procedure with one cannot COMMIT.
CREATE OR REPLACE PROCEDURE backup.apply_prune(batch_size integer DEFAULT 100, dry_run boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
    due       text[];
    batch     text[];
    r         record;
    i         integer := 1;
    dropped   integer := 0;
    skipped   integer := 0;
    freed     bigint := 0;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(array_agg(p.backup_table_name ORDER BY p.size_bytes DESC NULLS LAST), '{}')
      INTO due FROM backup.plan_prune() p WHERE p.decision = 'delete';
    IF dry_run THEN
        RAISE NOTICE 'apply_prune (dry run): % backup(s) due for deletion: %',
            cardinality(due), array_to_string(due, ', ');
        RETURN;
    END IF;
    WHILE i <= cardinality(due) LOOP
        batch := due[i : i + batch_size - 1];
        FOR r IN SELECT * FROM backup.prune_batch(batch) LOOP
            IF r.error IS NULL THEN
                dropped := dropped + 1;
                freed := freed + r.freed_bytes;
            ELSE
                skipped := skipped + 1;
                RAISE NOTICE 'skipped %: %', r.backup_table_name, r.error;
            END IF;
        END LOOP;
        COMMIT;
        i := i + batch_size;
    END LOOP;
    RAISE NOTICE 'apply_prune: dropped %, freed %, skipped %', dropped, pg_catalog.pg_size_pretty(freed), skipped;
END
$proc$;

-- Acknowledge a review: records who and when (audited); the next review is one interval later.
CREATE OR REPLACE FUNCTION backup.mark_reviewed(backup_table_name text, note text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m backup.backup_metadata%ROWTYPE;
BEGIN
    IF note IS NULL OR btrim(note) = '' THEN
        RAISE EXCEPTION 'a note is required: say what was reviewed and decided' USING ERRCODE = '22023';
    END IF;
    UPDATE backup.backup_metadata b SET reviewed_at = now(), review_note = note
     WHERE b.backup_table_name = backup_table_name
    RETURNING * INTO m;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no registered backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, detail)
    VALUES ('review', backup_table_name, m.source_schema, m.original_table_name, m.row_count,
            jsonb_build_object('note', note, 'kind', m.backup_kind));
    RETURN m.reviewed_at;
END
$fn$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA backup FROM PUBLIC;
