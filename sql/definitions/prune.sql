-- requires: plan, drop
-- Applying the plan. prune_batch drops what is still due among the names it is given;
-- apply_prune (for psql and pg_cron) feeds it a fresh plan in batches, committing after each:
-- one transaction for thousands of drops would run out of lock slots.
--
-- Deletion always plans at the real current time: prune_batch ignores a what-if date
-- (backup.as_of), and apply_prune refuses to start under one. Neither reads a size that needs a
-- lock (catalog estimates order the work), and each backup is locked with a bounded wait, so one
-- backup locked elsewhere is skipped and reported, never waited for, and never stops the others.

-- How long prune waits for one backup's lock when the session would wait for ever (lock_timeout
-- 0, pg_cron's default).
CREATE OR REPLACE FUNCTION backup.prune_lock_wait() RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '5s'::text $$;

-- Re-checks each name against a fresh plan (only those names: an indexed look-up, not the
-- whole plan) and drops the ones still due for deletion, each in its own subtransaction so
-- one failure (a lock held elsewhere, a new dependant, dropped meanwhile) skips only that one;
-- a backup skipped for its lock is audited ('prune-skip').
CREATE OR REPLACE FUNCTION backup.prune_batch(names text[])
RETURNS TABLE (backup_table_name text, freed_bytes bigint, error text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    r record;
BEGIN
    IF current_setting('lock_timeout') IN ('0', '0ms') THEN
        PERFORM set_config('lock_timeout', backup.prune_lock_wait(), true);
    END IF;
    PERFORM set_config('backup.size_estimates', 'on', true);  -- decisions only: no size needs a lock
    FOR r IN
        SELECT n.name, p.decision, p.reason
          FROM unnest(names) WITH ORDINALITY AS n(name, i)
          LEFT JOIN backup.plan_prune(now(), names) p ON p.backup_table_name = n.name
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
                    error := format('lock timeout after %s: the backup is in use; skipped, retry later',
                                    current_setting('lock_timeout'));
                    INSERT INTO backup.backup_audit (action, backup_table_name, detail)
                    VALUES ('prune-skip', r.name, jsonb_build_object('error', error));
                END IF;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('backup.size_estimates', '', true);
END
$fn$;

-- Starts a run: refuses a what-if date and a bad batch size, plans at the real now() (with size
-- estimates: ordering the work needs no lock), biggest first. A dry run reports and is finished.
CREATE OR REPLACE FUNCTION backup.prune_start(batch_size integer, dry_run boolean) RETURNS backup.prune_run
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    run backup.prune_run;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF backup.what_if() IS NOT NULL THEN
        RAISE EXCEPTION 'apply_prune deletes only at the real current time, and backup.as_of is set to %',
            backup.what_if()
            USING ERRCODE = '22023', HINT = 'RESET backup.as_of (the what-if date is for previews); nothing was dropped';
    END IF;
    PERFORM set_config('backup.size_estimates', 'on', true);
    SELECT coalesce(array_agg(p.backup_table_name ORDER BY p.size_bytes DESC NULLS LAST, p.backup_table_name), '{}')
      INTO run.due FROM backup.plan_prune(now()) p WHERE p.decision = 'delete';
    PERFORM set_config('backup.size_estimates', '', true);
    run.position := 0;
    run.batch_size := batch_size;
    run.dropped := 0;
    run.skipped := 0;
    run.freed := 0;
    run.finished := dry_run OR cardinality(run.due) = 0;
    IF dry_run THEN
        RAISE NOTICE 'apply_prune (dry run): % backup(s) due for deletion: %',
            cardinality(run.due), array_to_string(run.due, ', ');
    END IF;
    RETURN run;
END
$fn$;

-- One batch of a run (apply_prune commits after it).
CREATE OR REPLACE FUNCTION backup.prune_step(run backup.prune_run) RETURNS backup.prune_run
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM backup.prune_batch(run.due[run.position + 1 : run.position + run.batch_size]) LOOP
        IF r.error IS NULL THEN
            run.dropped := run.dropped + 1;
            run.freed := run.freed + r.freed_bytes;
        ELSE
            run.skipped := run.skipped + 1;
            RAISE NOTICE 'skipped %: %', r.backup_table_name, r.error;
        END IF;
    END LOOP;
    run.position := run.position + run.batch_size;
    run.finished := run.position >= cardinality(run.due);
    RETURN run;
END
$fn$;

CREATE OR REPLACE FUNCTION backup.prune_finish(run backup.prune_run) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF run.position > 0 OR cardinality(run.due) = 0 THEN
        RAISE NOTICE 'apply_prune: dropped %, freed %, skipped %', run.dropped, pg_size_pretty(run.freed), run.skipped;
    END IF;
END
$fn$;

-- CALL backup.apply_prune();  -- or from pg_cron:
--   SELECT cron.schedule('backup-prune', '15 3 * * *', 'CALL backup.apply_prune()');
-- Must run outside an explicit transaction block (it commits after each batch). A procedure that
-- commits cannot carry a SET clause, so this body names nothing a caller's search_path could
-- shadow: schema-qualified functions and a schema-qualified type, no operator, no cast (NOT is
-- syntax, not an operator); the work is in prune_start, prune_step and prune_finish.
CREATE OR REPLACE PROCEDURE backup.apply_prune(batch_size integer DEFAULT 100, dry_run boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
    run backup.prune_run;
BEGIN
    run := backup.prune_start(batch_size, dry_run);
    WHILE NOT run.finished LOOP
        run := backup.prune_step(run);
        COMMIT;
    END LOOP;
    PERFORM backup.prune_finish(run);
END
$proc$;

-- Acknowledge a review: records who and when (audited); the next review is one interval later.
CREATE OR REPLACE FUNCTION backup.mark_reviewed(backup_table_name text, note text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
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
