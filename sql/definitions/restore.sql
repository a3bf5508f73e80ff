-- requires: basics
-- The last step of a restore, in the restoring transaction (tui/db/archive.py creates the table
-- and copies the rows as the caller): the new table gets row-level security when its backup had
-- it, or when it lands in public on a database with Supabase's anon and authenticated roles (no
-- policies: nobody but its owner and BYPASSRLS roles reads it until policies are written),
-- and whatever default privileges handed to anon, authenticated or PUBLIC is taken back (on
-- Supabase, new tables in public are granted to anon and authenticated). Audited as 'restore';
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
    INSERT INTO backup.backup_audit (action, backup_table_name, detail)
    VALUES ('restore', backup_table_name,
            jsonb_build_object('restored_as', restored::text, 'location', location, 'row_security', row_security));
END
$fn$;
