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
        ('backup.cron_field(text,integer,integer,text[],text)', 'reviewer'),
        ('backup.cron_value(text,text[],integer,text)', 'reviewer'),
        ('backup.cron_parse(text)', 'reviewer'),
        ('backup.cron_valid(text)', 'reviewer'),
        ('backup.cron_day_matches(backup.cron_spec,date)', 'reviewer'),
        ('backup.cron_prev(text,timestamp with time zone)', 'reviewer'),
        ('backup.cron_next(text,timestamp with time zone,integer)', 'reviewer'),
        ('backup.cron_words(text)', 'reviewer'),
        ('backup.cron_never(text)', 'reviewer'),
        ('backup.due_schedules(timestamp with time zone)', 'reviewer'),
        ('backup.schedule_rows(timestamp with time zone)', 'reviewer'),
        ('backup.caller()', 'reviewer'),
        ('backup.valid_date(timestamp with time zone)', 'reviewer'),
        ('backup.owner_role()', 'reviewer'),
        ('backup.not_ours(oid)', 'reviewer'),
        ('backup.may_copy(text,oid)', 'reviewer'),
        ('backup.untrusted_type(oid,text[])', 'reviewer'),
        ('backup.analyze_safe(oid)', 'reviewer'),
        ('backup.restorable_types(text[],text[])', 'reviewer'),
        ('backup.truncate_bytes(text,integer)', 'operator'),
        ('backup.record_verification(text,text,text)', 'operator'),
        ('backup.record_restore(regclass,text,text,boolean)', 'operator'),
        ('backup.create_table_backup(text,text,text,text)', 'operator'),
        ('backup.create_table_backup(text,text)', 'operator'),
        ('backup.drop_table_backup(text)', 'operator'),
        ('backup.drop_table_backups(text[])', 'operator'),
        ('backup.prune_lock_wait()', 'operator'),
        ('backup.prune_batch(text[])', 'operator'),
        ('backup.prune_start(integer,boolean)', 'operator'),
        ('backup.prune_step(backup.prune_run)', 'operator'),
        ('backup.prune_finish(backup.prune_run)', 'operator'),
        ('backup.apply_prune(integer,boolean)', 'operator'),
        ('backup.mark_reviewed(text,text)', 'operator'),
        ('backup.hold_backup(text,text,timestamp with time zone)', 'operator'),
        ('backup.release_hold(text)', 'operator'),
        ('backup.find_redundant()', 'operator'),
        ('backup.fingerprint_of(oid)', 'owner'),
        ('backup.hold_words(timestamp with time zone,text,text,timestamp with time zone,timestamp with time zone)', 'reviewer'),
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
        ('backup.lock_holder(oid)', 'owner'),
        ('backup.lock_backup(text,text)', 'owner'),
        ('backup.make_backup(text,text,text,text,text,bigint)', 'owner'),
        ('backup.created_here(oid)', 'owner'),
        ('backup.share_backups(text)', 'owner'),
        ('backup.enforce_privileges(boolean)', 'owner'),
        ('backup.role_grants(text,text)', 'owner'),
        ('backup.grant_role(text,text)', 'owner'),
        ('backup.revoke_exposure(text[])', 'owner')
$$;

-- The statements that give `role_name` what `level` ('reviewer' or 'operator') needs; an
-- operator gets the reviewer's grants too. Nothing else: no CREATE in schema backup, no INSERT,
-- UPDATE or DELETE on its tables (every write is one of our functions, which records who called),
-- no superuser, no ownership. An operator may read (to archive or restore) the backups whose source
-- it may read: share_backups grants those that exist, and every new backup is shared the same way.
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
    IF role_name IN ('anon', 'authenticated') THEN
        RAISE EXCEPTION 'role % is the public API''s: it never gets rights on the backups', who USING ERRCODE = '42501';
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
        RETURN NEXT format('SELECT backup.share_backups(%L::text)', role_name);
    END IF;
END
$fn$;

-- Lets an operator read the existing backups whose source it may read whole now (backup.may_copy),
-- as every new backup does when it is made: archive and restore read a backup with the caller's
-- own rights. Returns how many were shared.
CREATE OR REPLACE FUNCTION backup.share_backups(role_name text) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        SELECT m.backup_table_name
          FROM backup.backup_metadata m
          JOIN pg_class c ON c.relname = m.backup_table_name::name AND c.relnamespace = 'backup'::regnamespace
          JOIN pg_namespace sn ON sn.nspname = m.source_schema
          JOIN pg_class src ON src.relnamespace = sn.oid AND src.relname = m.original_table_name::name
         WHERE NOT has_table_privilege(role_name, c.oid, 'SELECT')
           AND backup.may_copy(role_name, src.oid) IS NULL
    LOOP
        EXECUTE format('GRANT SELECT ON backup.%I TO %I', r.backup_table_name, role_name);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;

-- The role model, enforced: whatever a grant outside it gave is taken back, and each statement
-- run is returned (install reports them). Nobody but the owner may create in schema backup or
-- write its tables (metadata, audit, policy, schedules: every write is a function of ours that
-- records who called); a backup is readable by the roles that made it or may read its source.
-- Run by install; 0.2's `grant --operator` gave CREATE, INSERT and SELECT on every table. Who may
-- read each backup (one check per grant: seconds at 100,000 backups) only when `reads`: install
-- asks for it when it changed something, not on every run.
CREATE OR REPLACE FUNCTION backup.enforce_privileges(reads boolean DEFAULT true) RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    statement text;
BEGIN
    FOR r IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS who
          FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE n.nspname = 'backup' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
    LOOP
        statement := format('REVOKE CREATE ON SCHEMA backup FROM %s', r.who);
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
    -- Writes to anything in the schema (its own tables, the backups, their sequences): the owner's.
    FOR r IN
        SELECT c.oid::regclass::text AS what, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS who,
               string_agg(DISTINCT a.privilege_type, ', ') AS privileges
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
           AND a.grantee <> c.relowner
           AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'USAGE',
                                    'MAINTAIN')
         GROUP BY 1, 2, 3
         ORDER BY 1, 3
    LOOP
        statement := format('REVOKE %s ON %s %s FROM %s', r.privileges, r.kind, r.what, r.who);
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
    -- Routines by level: the owner's helpers are nobody else's; an operator's are for operators
    -- (roles that may drop: 0.2 let reviewers record verifications).
    FOR r IN
        SELECT p.oid::regprocedure::text AS routine, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS kind,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS who
          FROM pg_proc p
          JOIN backup.routine_levels() l ON l.routine = format('backup.%s(%s)', p.proname,
                                                                replace(oidvectortypes(p.proargtypes), ', ', ','))
          CROSS JOIN LATERAL aclexplode(p.proacl) a
         WHERE p.pronamespace = 'backup'::regnamespace AND a.grantee <> p.proowner
           AND (l.level = 'owner'
                OR (l.level = 'operator' AND (a.grantee = 0 OR NOT has_function_privilege(
                        a.grantee, 'backup.drop_table_backup(text)'::regprocedure, 'EXECUTE'))))
         ORDER BY 1, 3
    LOOP
        statement := format('REVOKE EXECUTE ON %s %s FROM %s', r.kind, r.routine, r.who);
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
    -- Reading a backup: its maker, and the roles that may read its source (0.2 gave every
    -- operator SELECT on every backup). The schema's own tables keep the reviewers' SELECT.
    FOR r IN
        SELECT format('backup.%I', c.relname) AS what, a.grantee::regrole::text AS who
          FROM pg_class c
          CROSS JOIN LATERAL aclexplode(c.relacl) a
          JOIN pg_roles g ON g.oid = a.grantee
          LEFT JOIN backup.backup_metadata m ON m.backup_table_name = c.relname::text COLLATE "default"
         WHERE reads AND c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p')
           AND c.relname <> ALL (backup.internal_tables())
           AND a.grantee <> c.relowner AND a.privilege_type = 'SELECT'
           AND g.rolname NOT IN ('anon', 'authenticated')  -- exposure: check reports, --fix exposure revokes
           AND g.rolname IS DISTINCT FROM m.created_by
           AND coalesce(backup.may_copy(g.rolname::text,
                                        (SELECT src.oid FROM pg_class src JOIN pg_namespace sn ON sn.oid = src.relnamespace
                                          WHERE sn.nspname = m.source_schema AND src.relname = m.original_table_name)),
                        'unregistered') IS NOT NULL
    LOOP
        statement := format('REVOKE SELECT ON %s FROM %s', r.what, r.who);
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
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
    r record;
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
        -- Default privileges someone set for new objects in schema backup, and the global ones of
        -- the schema's owner (ALTER DEFAULT PRIVILEGES ... GRANT ... without IN SCHEMA), which reach
        -- every table it creates, backups included. (PUBLIC's EXECUTE on new functions and USAGE on
        -- new types are PostgreSQL's own defaults: install revokes those on ours.)
        FOR r IN
            SELECT DISTINCT d.defaclrole::regrole::text AS owner, d.defaclnamespace <> 0 AS in_backup,
                   CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                        WHEN 'T' THEN 'TYPES' END AS objects
              FROM pg_default_acl d, aclexplode(d.defaclacl) a
             WHERE (d.defaclnamespace = 'backup'::regnamespace
                    OR (d.defaclnamespace = 0 AND d.defaclrole = (SELECT n.nspowner FROM pg_namespace n
                                                                  WHERE n.nspname = 'backup')
                        AND (d.defaclobjtype IN ('r', 'S') OR who <> 'PUBLIC')))
               AND d.defaclobjtype IN ('r', 'S', 'f', 'T')
               AND a.grantee = CASE WHEN who = 'PUBLIC' THEN 0 ELSE who::regrole::oid END
        LOOP
            statement := format('ALTER DEFAULT PRIVILEGES FOR ROLE %s%s REVOKE ALL ON %s FROM %s', r.owner,
                                CASE WHEN r.in_backup THEN ' IN SCHEMA backup' ELSE '' END, r.objects, who);
            EXECUTE statement;
            RETURN NEXT statement;
        END LOOP;
    END LOOP;
END
$fn$;
