-- requires: basics, cron, create
-- Scheduled backups. backup.backup_schedule says what to back up and when; run_due_backups (for
-- pg_cron every minute, or `backup-tui run-due` from the system's cron) makes what is due, one
-- transaction per schedule, so a failure is recorded on its schedule and never stops the others.
-- Missed runs (the server was down) make one catch-up backup: a schedule is due when the latest
-- minute its cron fires at (at or before now) is later than the one it last ran for.
--
-- A schedule carries its author's rights: whoever runs it (the DBA's `run-due`, a superuser's
-- pg_cron job), the copy is made only if the author (created_by) may still read the whole source
-- at that moment (backup.may_copy); else the run fails with the reason recorded. System catalogs are
-- refused when the schedule is added and when it runs. The functions that write schedules are
-- SECURITY DEFINER: nobody writes backup.backup_schedule directly.

-- Every write to a schedule goes through here: the cron expression must parse (one clear line).
CREATE OR REPLACE FUNCTION backup.schedule_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM backup.cron_parse(NEW.cron);
    IF backup.cron_never(NEW.cron) IS NOT NULL THEN
        RAISE EXCEPTION '%', backup.cron_never(NEW.cron) USING ERRCODE = '22023';
    END IF;
    IF btrim(NEW.source_table) = '' THEN
        RAISE EXCEPTION 'a schedule needs a table' USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE TRIGGER backup_schedule_check BEFORE INSERT OR UPDATE OF cron, source_table
    ON backup.backup_schedule FOR EACH ROW EXECUTE FUNCTION backup.schedule_check();

-- How long a scheduled backup waits for its table's lock when the session would wait for ever
-- (pg_cron's default): a table locked by a migration fails this run, it does not hang the runner.
CREATE OR REPLACE FUNCTION backup.schedule_lock_wait() RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '10s'::text $$;

-- Adds a schedule after checking what a person would get wrong: the table, the kind, the cron.
CREATE OR REPLACE FUNCTION backup.add_schedule(table_name text, kind text, cron text,
                                               reason text DEFAULT NULL, source_schema text DEFAULT 'public')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    new_id bigint;
    author text := backup.caller();
    v_source oid;
    v_why text;
BEGIN
    source_schema := coalesce(nullif(btrim(source_schema), ''), 'public');
    SELECT c.oid INTO v_source FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = source_schema AND c.relname = table_name;
    IF v_source IS NULL THEN
        RAISE EXCEPTION 'table %.% does not exist', quote_ident(source_schema), quote_ident(table_name)
            USING ERRCODE = '42P01';
    END IF;
    IF source_schema = 'backup' THEN
        RAISE EXCEPTION 'cannot schedule backups of backup.%: tables in schema backup are backups themselves',
            quote_ident(table_name) USING ERRCODE = '42809';
    END IF;
    v_why := backup.may_copy(author, v_source);
    IF v_why IS NOT NULL THEN
        RAISE EXCEPTION 'cannot schedule backups of %.%: %', quote_ident(source_schema), quote_ident(table_name), v_why
            USING ERRCODE = CASE WHEN v_why LIKE '%may not read%' OR v_why LIKE '%row-level security%'
                                 THEN '42501' ELSE '42809' END,
                  HINT = 'a schedule runs with its author''s rights: it may copy only what its author may read whole';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = kind) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind
            USING ERRCODE = '22023',
                  HINT = 'known kinds: ' || (SELECT string_agg(p.backup_kind, ', ' ORDER BY p.backup_kind)
                                               FROM backup.retention_policy p);
    END IF;
    PERFORM backup.cron_parse(cron);
    IF EXISTS (SELECT 1 FROM backup.backup_schedule s
                WHERE s.source_schema = source_schema AND s.source_table = table_name
                  AND s.backup_kind = kind AND s.cron = btrim(cron)) THEN
        RAISE EXCEPTION 'a % schedule of %.% at "%" exists already', kind, quote_ident(source_schema),
            quote_ident(table_name), btrim(cron) USING ERRCODE = '23505';
    END IF;
    INSERT INTO backup.backup_schedule (source_schema, source_table, backup_kind, cron, reason, created_by)
    VALUES (source_schema, table_name, kind, btrim(cron),
            coalesce(nullif(btrim(reason), ''), 'scheduled {kind} backup of {table}'), author)
    RETURNING id INTO new_id;
    INSERT INTO backup.backup_audit (action, source_schema, source_table, detail)
    VALUES ('schedule-add', source_schema, table_name,
            jsonb_strip_nulls(jsonb_build_object('schedule', new_id, 'kind', kind, 'cron', btrim(cron),
                'author', CASE WHEN author <> session_user::text THEN author END)));
    RETURN new_id;
END
$fn$;

-- Changes a schedule (NULL: keep what it has), pauses or resumes it, or removes it; audited.
CREATE OR REPLACE FUNCTION backup.update_schedule(schedule_id bigint, kind text DEFAULT NULL, cron text DEFAULT NULL,
                                                  reason text DEFAULT NULL, enabled boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    s backup.backup_schedule;
BEGIN
    SELECT * INTO s FROM backup.backup_schedule b WHERE b.id = schedule_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no schedule %', schedule_id USING ERRCODE = '42704';
    END IF;
    IF kind IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = kind) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind USING ERRCODE = '22023';
    END IF;
    IF cron IS NOT NULL THEN
        PERFORM backup.cron_parse(cron);
    END IF;
    UPDATE backup.backup_schedule b
       SET backup_kind = coalesce(kind, b.backup_kind), cron = coalesce(btrim(cron), b.cron),
           reason = coalesce(nullif(btrim(reason), ''), b.reason), enabled = coalesce(enabled, b.enabled),
           -- resumed: runs missed while paused are not made up (it is due from now on)
           last_run_at = CASE WHEN enabled AND NOT b.enabled THEN greatest(b.last_run_at, now()) ELSE b.last_run_at END
     WHERE b.id = schedule_id;
    INSERT INTO backup.backup_audit (action, source_schema, source_table, detail)
    VALUES (CASE WHEN enabled IS NOT NULL AND kind IS NULL AND cron IS NULL AND reason IS NULL
                 THEN CASE WHEN enabled THEN 'schedule-resume' ELSE 'schedule-pause' END
                 ELSE 'schedule-change' END,
            s.source_schema, s.source_table,
            jsonb_strip_nulls(jsonb_build_object('schedule', schedule_id, 'kind', kind, 'cron', cron,
                                                 'reason', reason, 'enabled', enabled)));
END
$fn$;

CREATE OR REPLACE FUNCTION backup.remove_schedule(schedule_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    s backup.backup_schedule;
BEGIN
    DELETE FROM backup.backup_schedule b WHERE b.id = schedule_id RETURNING * INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no schedule %', schedule_id USING ERRCODE = '42704';
    END IF;
    INSERT INTO backup.backup_audit (action, source_schema, source_table, detail)
    VALUES ('schedule-remove', s.source_schema, s.source_table,
            jsonb_build_object('schedule', schedule_id, 'kind', s.backup_kind, 'cron', s.cron));
END
$fn$;

-- The backups a schedule would make at `at`: enabled, and the latest minute its cron fires at
-- (at or before `at`) is later than the minute it last ran for (or its creation).
CREATE OR REPLACE FUNCTION backup.due_schedules(at timestamptz DEFAULT now())
RETURNS TABLE (id bigint, source_schema text, source_table text, backup_kind text, slot timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.id, s.source_schema, s.source_table, s.backup_kind, p.slot
      FROM backup.backup_schedule s
      CROSS JOIN LATERAL (SELECT backup.cron_prev(s.cron, at) AS slot) p
     WHERE s.enabled AND p.slot IS NOT NULL AND p.slot > coalesce(s.last_run_at, s.created_at)
     ORDER BY s.id
$$;

-- One schedule's backup, now (`slot`: the minute it is for). The schedule's row is locked first
-- (SKIP LOCKED: a second runner passes it by), so two runners never make the same backup twice;
-- with `only_if_due` it is made only when still due. The result, good or bad, is recorded on the
-- schedule (and a failure in the audit); returns the backup's name, or NULL and the error.
CREATE OR REPLACE FUNCTION backup.run_schedule(schedule_id bigint, slot timestamptz DEFAULT now(),
                                               only_if_due boolean DEFAULT false)
RETURNS TABLE (backup_table_name text, error text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    s      backup.backup_schedule;
    reason text;
    v_why  text;
BEGIN
    SELECT * INTO s FROM backup.backup_schedule b WHERE b.id = schedule_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM backup.backup_schedule b WHERE b.id = schedule_id) THEN
            RAISE EXCEPTION 'no schedule %', schedule_id USING ERRCODE = '42704';
        END IF;
        RETURN;  -- another runner is making it right now
    END IF;
    IF only_if_due AND (NOT s.enabled OR slot <= coalesce(s.last_run_at, s.created_at)) THEN
        RETURN;
    END IF;
    IF current_setting('lock_timeout') IN ('0', '0ms') THEN
        PERFORM set_config('lock_timeout', backup.schedule_lock_wait(), true);
    END IF;
    reason := replace(replace(replace(s.reason, '{kind}', s.backup_kind), '{table}', s.source_table),
                      '{date}', to_char(slot AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'));
    BEGIN
        -- The author's rights, now (a grant taken back since the schedule was added counts).
        v_why := backup.may_copy(s.created_by,
                                 (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                   WHERE n.nspname = s.source_schema AND c.relname = s.source_table));
        IF v_why = 'the table does not exist' THEN
            RAISE EXCEPTION 'table %.% does not exist', quote_ident(s.source_schema), quote_ident(s.source_table)
                USING ERRCODE = '42P01';
        ELSIF v_why IS NOT NULL THEN
            RAISE EXCEPTION 'the schedule''s author % may not back up %.% any more: %', quote_ident(s.created_by),
                quote_ident(s.source_schema), quote_ident(s.source_table), v_why USING ERRCODE = '42501';
        END IF;
        backup_table_name := backup.make_backup(s.source_table, reason, s.backup_kind, s.source_schema,
                                                s.created_by, s.id);
        UPDATE backup.backup_schedule b
           SET last_run_at = greatest(least(slot, now()), b.last_run_at), last_attempt_at = clock_timestamp(),
               last_result = 'ok', last_error = NULL, last_backup = backup_table_name
         WHERE b.id = s.id;
    EXCEPTION WHEN OTHERS THEN
        error := SQLERRM;
        IF SQLSTATE = '55P03' THEN
            error := format('lock timeout after %s: %s.%s is locked by another session', current_setting('lock_timeout'),
                            quote_ident(s.source_schema), quote_ident(s.source_table));
        END IF;
        backup_table_name := NULL;
        UPDATE backup.backup_schedule b
           SET last_run_at = greatest(least(slot, now()), b.last_run_at), last_attempt_at = clock_timestamp(),
               last_result = 'failed', last_error = error
         WHERE b.id = s.id;
        INSERT INTO backup.backup_audit (action, source_schema, source_table, detail)
        VALUES ('schedule-failed', s.source_schema, s.source_table,
                jsonb_build_object('schedule', s.id, 'slot', slot, 'error', error));
    END;
    RETURN NEXT;
END
$fn$;

-- For pg_cron (every minute) and `backup-tui run-due`: makes every due backup, committing after
-- each schedule. A procedure that commits cannot carry SET search_path: its body calls only
-- functions that do, and names nothing a caller's search_path could shadow.
CREATE OR REPLACE PROCEDURE backup.run_due_backups(at timestamptz DEFAULT pg_catalog.now())
LANGUAGE plpgsql
AS $fn$
DECLARE
    due record;
BEGIN
    FOR due IN SELECT d.* FROM backup.due_schedules(at) d LOOP
        PERFORM backup.run_schedule(due.id, due.slot, true);
        COMMIT;
    END LOOP;
END
$fn$;

-- The schedules screen and `schedule list`: each schedule with its words, next run, and what it
-- made so far (how many of its backups exist, their catalog size: no lock needed). As of the
-- session's what-if time when one is set (backup.as_of), like the rest of what the screens show.
CREATE OR REPLACE FUNCTION backup.schedule_rows(at timestamptz DEFAULT backup.as_of())
RETURNS TABLE (id bigint, source_schema text, source_table text, backup_kind text, cron text, words text,
               reason text, enabled boolean, next_run timestamptz, due_since timestamptz,
               last_run_at timestamptz, last_attempt_at timestamptz, last_result text, last_error text,
               last_backup text, backups bigint, backup_bytes bigint, overdue boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.id, s.source_schema, s.source_table, s.backup_kind, s.cron, backup.cron_words(s.cron), s.reason,
           s.enabled, CASE WHEN s.enabled THEN n.next_run END,
           CASE WHEN s.enabled AND p.slot > coalesce(s.last_run_at, s.created_at) THEN p.slot END,
           s.last_run_at, s.last_attempt_at, s.last_result, s.last_error, s.last_backup,
           coalesce(m.backups, 0), coalesce(m.bytes, 0),
           -- overdue: the first run it missed is more than one period (between two runs) ago
           coalesce(s.enabled AND f.first_missed <= at
                    AND at - f.first_missed > greatest(n.next_run - p.slot, interval '2 minutes'), false)
      FROM backup.backup_schedule s
      CROSS JOIN LATERAL (SELECT backup.cron_prev(s.cron, at) AS slot) p
      -- LEFT: a schedule whose expression fires in no year ahead (kept from before such were
      -- refused) is listed with no next run, never left out.
      LEFT JOIN LATERAL (SELECT backup.cron_next(s.cron, at, 1) AS next_run LIMIT 1) n ON true
      LEFT JOIN LATERAL (SELECT backup.cron_next(s.cron, coalesce(s.last_run_at, s.created_at), 1) AS first_missed
                          LIMIT 1) f ON true
      LEFT JOIN LATERAL (
          SELECT count(*) AS backups,
                 sum((c.relpages::bigint + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint)::bigint AS bytes
            FROM backup.backup_metadata md
            JOIN pg_class c ON c.relname = md.backup_table_name AND c.relnamespace = 'backup'::regnamespace
            LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
           WHERE md.schedule_id = s.id
      ) m ON true
     ORDER BY s.source_schema, s.source_table, s.backup_kind, s.id
$$;
