-- requires: basics
-- Holds (#27): keep a backup on purpose (Barman's keep, restic's --keep-tag, S3's legal hold).
-- The plan keeps a held backup (rule 'held'); claim_backup refuses to drop, archive or forget one
-- (so drop, archive and prune do); an expired hold (hold_until passed) counts for nothing. Both
-- calls are the owner's (SECURITY DEFINER: operators have no DML on our tables) and audited, with
-- the person who asked (backup.requested_by, migration 014).

CREATE OR REPLACE FUNCTION backup.hold_backup(backup_table_name text, reason text, until timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m backup.backup_metadata%ROWTYPE;
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a reason is required: say why this backup must be kept' USING ERRCODE = '22023';
    END IF;
    IF until IS NOT NULL AND (NOT isfinite(until) OR until <= now()) THEN
        RAISE EXCEPTION 'a hold until % would be over already: give a date in the future, or none', until
            USING ERRCODE = '22023';
    END IF;
    UPDATE backup.backup_metadata b
       -- Who held it: the role, and the person it was for when the client said ('postgres for alice').
       SET held_at = now(), hold_reason = reason, hold_until = until,
           held_by = session_user || coalesce(' for ' || nullif(current_setting('backup.requested_by', true), ''), '')
     WHERE b.backup_table_name = backup_table_name
    RETURNING * INTO m;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no registered backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, detail)
    VALUES ('hold', backup_table_name, m.source_schema, m.original_table_name, m.row_count,
            jsonb_build_object('reason', reason, 'until', until));
    RETURN m.held_at;
END
$fn$;

CREATE OR REPLACE FUNCTION backup.release_hold(backup_table_name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m backup.backup_metadata%ROWTYPE;
BEGIN
    SELECT * INTO m FROM backup.backup_metadata b WHERE b.backup_table_name = backup_table_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no registered backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;
    IF m.held_at IS NULL THEN
        RAISE EXCEPTION 'backup % is not held', quote_ident(backup_table_name) USING ERRCODE = '42809';
    END IF;
    UPDATE backup.backup_metadata b SET held_at = NULL, held_by = NULL, hold_reason = NULL, hold_until = NULL
     WHERE b.id = m.id;
    -- What was released, so the audit alone tells the whole story.
    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count, detail)
    VALUES ('release', backup_table_name, m.source_schema, m.original_table_name, m.row_count,
            jsonb_build_object('held_by', m.held_by, 'held_at', m.held_at, 'reason', m.hold_reason,
                               'until', m.hold_until));
END
$fn$;

-- Whether a hold keeps this row now, and its words ('held by alice on 2026-12-07 until 2027-01-31:
-- legal hold'), NULL when it does not: the plan's reason and claim_backup's refusal say the same.
CREATE OR REPLACE FUNCTION backup.hold_words(held_at timestamptz, held_by text, reason text, until timestamptz,
                                             at timestamptz)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN held_at IS NOT NULL AND (until IS NULL OR until > at)
                THEN format('held by %s on %s%s: %s', held_by, to_char(held_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                            CASE WHEN until IS NOT NULL
                                 THEN ' until ' || to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD') ELSE '' END,
                            reason)
           END
$$;
