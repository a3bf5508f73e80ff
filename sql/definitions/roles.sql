-- requires: (nothing)
-- Who may do what, as data: the grants a read-only reviewer and an operator need, and the one
-- call that takes back whatever reaches the backups from anon, authenticated or PUBLIC.
-- `backup-tui grant ROLE --reviewer|--operator` prints role_grants() and runs it on confirmation;
-- `backup-tui check` reports exposure and `check --fix exposure` runs revoke_exposure().

-- Every function and procedure of the schema, by who may call it:
--   reviewer   browse, check, plan (reads the catalogue, never a backup's rows)
--   operator   also create, drop, prune, archive, adopt, review
--   owner      the installer's own helpers (called inside the others, or by the schema's owner)
-- A test holds this list to the schema: a new function must be placed here.
CREATE OR REPLACE FUNCTION backup.routine_levels()
RETURNS TABLE (routine text, level text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
        ('backup.internal_tables()', 'reviewer'),
        ('backup.as_of()', 'reviewer'),
        ('backup.what_if()', 'reviewer'),
        ('backup.parse_backup_name(text)', 'reviewer'),
        ('backup.interval_words(interval)', 'reviewer'),
        ('backup.age_words(interval)', 'reviewer'),
        ('backup.ages_words(interval[])', 'reviewer'),
        ('backup.dependants(oid[])', 'reviewer'),
        ('backup.locked_relations()', 'reviewer'),
        ('backup.plan_rows(timestamp with time zone,text[])', 'reviewer'),
        ('backup.plan_prune(timestamp with time zone,text[])', 'reviewer'),
        ('backup.inventory_rows(text[])', 'reviewer'),
        ('backup.named_entries(text[])', 'reviewer'),
        ('backup.biggest_backups(integer)', 'reviewer'),
        ('backup.routine_levels()', 'reviewer'),
        ('backup.record_verification(text,text,text)', 'reviewer'),
        ('backup.cron_field(text,integer,integer,text[],text)', 'reviewer'),
        ('backup.cron_value(text,text[],integer,text)', 'reviewer'),
        ('backup.cron_parse(text)', 'reviewer'),
        ('backup.cron_valid(text)', 'reviewer'),
        ('backup.cron_day_matches(backup.cron_spec,date)', 'reviewer'),
        ('backup.cron_prev(text,timestamp with time zone)', 'reviewer'),
        ('backup.cron_next(text,timestamp with time zone,integer)', 'reviewer'),
        ('backup.cron_words(text)', 'reviewer'),
        ('backup.due_schedules(timestamp with time zone)', 'reviewer'),
        ('backup.schedule_rows(timestamp with time zone)', 'reviewer'),
        ('backup.truncate_bytes(text,integer)', 'operator'),
        ('backup.create_table_backup(text,text,text,text)', 'operator'),
        ('backup.create_table_backup(text,text)', 'operator'),
        ('backup.drop_table_backup(text)', 'operator'),
        ('backup.prune_lock_wait()', 'operator'),
        ('backup.prune_batch(text[])', 'operator'),
        ('backup.prune_start(integer,boolean)', 'operator'),
        ('backup.prune_step(backup.prune_run)', 'operator'),
        ('backup.prune_finish(backup.prune_run)', 'operator'),
        ('backup.apply_prune(integer,boolean)', 'operator'),
        ('backup.mark_reviewed(text,text)', 'operator'),
        ('backup.adopt_backup(text,text,text,text,text)', 'operator'),
        ('backup.hold_for_archive(text)', 'operator'),
        ('backup.archive_table_backup(text,text,jsonb)', 'operator'),
        ('backup.finish_restore(regclass,text,text,boolean)', 'operator'),
        ('backup.forget_archive(text)', 'operator'),
        ('backup.adopt_archive(text,jsonb)', 'operator'),
        ('backup.schedule_lock_wait()', 'operator'),
        ('backup.add_schedule(text,text,text,text,text)', 'operator'),
        ('backup.update_schedule(bigint,text,text,text,boolean)', 'operator'),
        ('backup.remove_schedule(bigint)', 'operator'),
        ('backup.run_schedule(bigint,timestamp with time zone,boolean)', 'operator'),
        ('backup.run_due_backups(timestamp with time zone)', 'operator'),
        ('backup.schedule_check()', 'owner'),
        ('backup.refuse_internal(text)', 'owner'),
        ('backup.claim_backup(text,text)', 'owner'),
        ('backup.role_grants(text,text)', 'owner'),
        ('backup.grant_role(text,text)', 'owner'),
        ('backup.revoke_exposure(text[])', 'owner')
$$;

-- The statements that give `role_name` what `level` ('reviewer' or 'operator') needs; an
-- operator gets the reviewer's grants too. Nothing else: no superuser, no ownership, no
-- DELETE or TRUNCATE on any backup (drops go through the definer functions, which only ever
-- drop registered backups in schema backup).
CREATE OR REPLACE FUNCTION backup.role_grants(role_name text, level text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    who text := quote_ident(role_name);
    r record;
BEGIN
    IF level NOT IN ('reviewer', 'operator') THEN
        RAISE EXCEPTION 'level must be reviewer or operator, not %', level USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        RAISE EXCEPTION 'role % does not exist', who USING ERRCODE = '42704';
    END IF;
    RETURN NEXT format('GRANT USAGE ON SCHEMA backup TO %s', who);
    RETURN NEXT format('GRANT SELECT ON backup.backup_metadata, backup.backup_audit, backup.retention_policy, '
                       'backup.schema_version, backup.schema_definitions, backup.backup_entries, '
                       'backup.backup_inventory, backup.backup_schedule TO %s', who);
    FOR r IN SELECT l.routine, l.level FROM backup.routine_levels() l
              WHERE l.level = 'reviewer' OR (level = 'operator' AND l.level = 'operator') ORDER BY 1 LOOP
        RETURN NEXT format('GRANT EXECUTE ON %s %s TO %s',
                           CASE WHEN r.routine LIKE 'backup.apply_prune(%' OR r.routine LIKE 'backup.run_due_backups(%'
                                THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                           r.routine, who);
    END LOOP;
    IF level = 'operator' THEN
        -- create_table_backup runs with the caller's rights: it creates the copy and records it.
        RETURN NEXT format('GRANT CREATE ON SCHEMA backup TO %s', who);
        RETURN NEXT format('GRANT INSERT ON backup.backup_metadata, backup.backup_audit TO %s', who);
        RETURN NEXT format('GRANT INSERT, UPDATE, DELETE ON backup.backup_schedule TO %s', who);
        -- Archiving reads a backup with COPY; backups made later are granted by create_table_backup.
        RETURN NEXT format('GRANT SELECT ON ALL TABLES IN SCHEMA backup TO %s', who);
    END IF;
END
$fn$;

-- Runs role_grants(): what `backup-tui grant ROLE --reviewer|--operator --yes` does. Run by
-- the schema's owner (or a superuser): it grants on the schema's objects. Returns what it ran.
CREATE OR REPLACE FUNCTION backup.grant_role(role_name text, level text)
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    statement text;
BEGIN
    FOR statement IN SELECT g FROM backup.role_grants(role_name, level) g LOOP
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
END
$fn$;

-- Takes back every privilege that reaches the backups from the given roles (default: anon,
-- authenticated and PUBLIC): on the schema, its tables, sequences, functions and procedures, its
-- default privileges, and our two public wrappers. Returns the statements it ran. Roles that do
-- not exist are skipped. The one statement `check` and `install` print when something is exposed:
--   SELECT * FROM backup.revoke_exposure();
CREATE OR REPLACE FUNCTION backup.revoke_exposure(roles text[] DEFAULT ARRAY['anon', 'authenticated', 'PUBLIC'])
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    who text;
    owner text;
    statement text;
BEGIN
    FOREACH who IN ARRAY roles LOOP
        IF who <> 'PUBLIC' AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = who) THEN
            CONTINUE;
        END IF;
        who := CASE WHEN who = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(who) END;
        FOR statement IN
            SELECT unnest(ARRAY[
                format('REVOKE ALL ON SCHEMA backup FROM %s', who),
                format('REVOKE ALL ON ALL TABLES IN SCHEMA backup FROM %s', who),
                format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA backup FROM %s', who),
                format('REVOKE ALL ON ALL ROUTINES IN SCHEMA backup FROM %s', who)])
            UNION ALL
            SELECT format('REVOKE ALL ON public.backup_inventory_view FROM %s', who)
             WHERE to_regclass('public.backup_inventory_view') IS NOT NULL
            UNION ALL
            SELECT format('REVOKE ALL ON FUNCTION public.get_backup_tables() FROM %s', who)
             WHERE to_regprocedure('public.get_backup_tables()') IS NOT NULL
        LOOP
            EXECUTE statement;
            RETURN NEXT statement;
        END LOOP;
        -- Default privileges someone set for new objects in schema backup.
        FOR owner IN
            SELECT DISTINCT d.defaclrole::regrole::text
              FROM pg_default_acl d, aclexplode(d.defaclacl) a
             WHERE d.defaclnamespace = 'backup'::regnamespace
               AND a.grantee = CASE WHEN who = 'PUBLIC' THEN 0 ELSE who::regrole::oid END
        LOOP
            FOREACH statement IN ARRAY ARRAY[
                format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA backup REVOKE ALL ON TABLES FROM %s', owner, who),
                format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA backup REVOKE ALL ON SEQUENCES FROM %s', owner, who),
                format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA backup REVOKE ALL ON FUNCTIONS FROM %s', owner, who)]
            LOOP
                EXECUTE statement;
                RETURN NEXT statement;
            END LOOP;
        END LOOP;
    END LOOP;
END
$fn$;
