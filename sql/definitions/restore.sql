-- requires: basics
-- The last step of a restore, in the restoring transaction (tui/db/archive.py creates the table
-- and copies the rows as the caller): the new table gets row-level security when its backup had
-- it, or when it lands in public on a database with Supabase's anon and authenticated roles (no
-- policies: nobody but its owner and BYPASSRLS roles reads it until policies are written),
-- and whatever default privileges handed to anon, authenticated or PUBLIC is taken back (on
-- Supabase, new tables in public are granted to anon and authenticated). Audited as 'restore' (record_restore);
-- `check` reports a restored table those roles can read again. Returns what it did, in words.
CREATE OR REPLACE FUNCTION backup.finish_restore(restored regclass, backup_table_name text, location text,
                                                 row_security boolean)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    who text;
    grantee oid;
BEGIN
    IF row_security THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', restored);
        RETURN NEXT format('row-level security enabled on %s (as on the backup; no policies yet)', restored);
    ELSIF (SELECT c.relnamespace = 'public'::regnamespace FROM pg_class c WHERE c.oid = restored)
          AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname IN ('anon', 'authenticated')) THEN
        -- Supabase serves public to anon and authenticated: a new table there is private until
        -- its policies are written (splinter's rls_disabled_in_public).
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', restored);
        RETURN NEXT format('row-level security enabled on %s (public is served to anon and authenticated: '
                           'deny by default until its policies are written)', restored);
    END IF;
    FOREACH who IN ARRAY ARRAY['anon', 'authenticated', 'PUBLIC'] LOOP
        grantee := CASE WHEN who = 'PUBLIC' THEN 0 ELSE (SELECT r.oid FROM pg_roles r WHERE r.rolname = who) END;
        IF grantee IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a
                                            WHERE c.oid = restored AND a.grantee = grantee) THEN
            EXECUTE format('REVOKE ALL ON %s FROM %s', restored, CASE WHEN who = 'PUBLIC' THEN who ELSE quote_ident(who) END);
            RETURN NEXT format('revoked what default privileges gave %s on %s', who, restored);
        END IF;
    END LOOP;
    PERFORM backup.record_restore(restored, backup_table_name, location, row_security);
END
$fn$;

-- The audit row of a restore: evidence `check` relies on (it advises REVOKE and row-level security
-- on the tables restore made), so it is written only for a table this very transaction created
-- and whose owner the caller may act as; the table's oid is kept, and check compares it with the
-- catalog. Nobody can name an older table, or somebody else's, as restored.
CREATE OR REPLACE FUNCTION backup.record_restore(restored regclass, backup_table_name text, location text,
                                                 row_security boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
BEGIN
    IF NOT backup.created_here(restored)
       OR NOT pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = restored), 'MEMBER') THEN
        RAISE EXCEPTION '% was not created by this restore: only the table a restore makes is recorded as restored',
            restored USING ERRCODE = '42501';
    END IF;
    INSERT INTO backup.backup_audit (action, backup_table_name, detail)
    VALUES ('restore', backup_table_name,
            jsonb_strip_nulls(jsonb_build_object(
                'restored_as', restored::text, 'restored_oid', restored::oid::bigint, 'location', location,
                'row_security', row_security,
                'role', CASE WHEN backup.caller() <> session_user::text THEN backup.caller() END)));
END
$fn$;

-- For a restore from an archive, whose manifest is untrusted input: which of its column types may
-- be used (problem NULL), in the order given. A type is accepted when it parses as exactly one type
-- name (no comment, semicolon or control character: the name is written into CREATE TABLE as it
-- stands) and everything it is built from is the system's or one of the `trusted` roles': a
-- domain's CHECK or a type's functions run as whoever stores a value (COPY does, for every row),
-- so a type someone else owns would run their code as the restoring role. A restore trusts the
-- restoring role and the schema's owner; adopt --from, which registers an archive for anyone to
-- restore later, the schema's owner only.
CREATE OR REPLACE FUNCTION backup.restorable_types(types text[], trusted text[])
RETURNS TABLE (ord integer, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t text;
    v_oid oid;
BEGIN
    ord := 0;
    FOREACH t IN ARRAY types LOOP
        ord := ord + 1;
        problem := NULL;
        v_oid := NULL;
        IF t IS NULL OR t ~ '(--|/\*|;|[[:cntrl:]])' OR length(t) > 200 THEN
            problem := 'is not a type name';
        ELSE
            BEGIN
                v_oid := to_regtype(t);
            EXCEPTION WHEN OTHERS THEN
                v_oid := NULL;
            END;
            IF v_oid IS NULL THEN
                problem := 'is not a type in this database';
            ELSIF (SELECT y.typtype FROM pg_type y WHERE y.oid = v_oid) = 'p' THEN
                problem := 'is a pseudo-type, not a column type';
            ELSE
                problem := backup.untrusted_type(v_oid, trusted);
                IF problem IS NOT NULL THEN
                    problem := format('is built on %s, a type none of %s owns: its code would run as whoever '
                                      'restores it', problem, array_to_string(trusted, ', '));
                END IF;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$fn$;
