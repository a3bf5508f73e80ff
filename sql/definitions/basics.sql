-- requires: (nothing)
-- The schema's vocabulary: its own tables, the policy's clock, names and their patterns.

-- The schema's own tables: never backups, never droppable, never adopted.
-- Every function here has a fixed search_path (pg_catalog, then pg_temp), so nothing a caller puts
-- on theirs (a look-alike of a built-in in public, say) can run inside our calls. It costs about
-- half a microsecond a call (measured: 100,000 calls of age_words, 117 ms inlined, 169 ms with it).

CREATE OR REPLACE FUNCTION backup.internal_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['backup_metadata', 'backup_audit', 'retention_policy', 'schema_version', 'schema_definitions', 'backup_schedule'] $$;

-- Refuses the schema's own tables by name, for every function that acts on a backup.
CREATE OR REPLACE FUNCTION backup.refuse_internal(backup_table_name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF backup_table_name = ANY (backup.internal_tables()) THEN
        RAISE EXCEPTION 'backup.% is part of the backup schema itself, not a backup', quote_ident(backup_table_name)
            USING ERRCODE = '42809';
    END IF;
END
$fn$;

-- "Now" for retention decisions: the session's backup.as_of setting when set, else now(). Lets a
-- DBA ask what the status will be on a given day (SET backup.as_of = '2027-01-01'), and tests and
-- screenshots freeze time without touching the server's clock. A what-if date never deletes:
-- apply_prune refuses to run under one, and prune_batch plans at the real now().
CREATE OR REPLACE FUNCTION backup.as_of() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(nullif(current_setting('backup.as_of', true), '')::timestamptz, now()) $$;

-- The what-if date in force, or NULL when decisions are made at the real current time.
CREATE OR REPLACE FUNCTION backup.what_if() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nullif(current_setting('backup.as_of', true), '')::timestamptz $$;

-- Cut a string to at most max_bytes bytes without splitting a multi-byte character.
CREATE OR REPLACE FUNCTION backup.truncate_bytes(s text, max_bytes integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    s := left(s, max_bytes);
    WHILE octet_length(s) > max_bytes LOOP
        s := left(s, -1);
    END LOOP;
    RETURN s;
END
$$;

-- Source table and date from the legacy and current name patterns:
-- <t>_backup_YYYY_MM_DD, <t>_backup_YYYYMMDD, <t>_backup_YYYY_MM_DD_HH24MISS[_N], <t>_backup.
-- Timestamps in names are UTC. Never errors: an impossible date gives a NULL date.
CREATE OR REPLACE FUNCTION backup.parse_backup_name(name text,
                                                    OUT source_table text, OUT backup_date timestamptz)
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text[];
BEGIN
    m := regexp_match(name, '^(.+)_backup_(\d{4})_?(\d{2})_?(\d{2})(?:_(\d{2})(\d{2})(\d{2}))?(?:_\d+)?$');
    IF m IS NULL THEN
        m := regexp_match(name, '^(.+)_backup$');
        source_table := m[1];
        RETURN;
    END IF;
    source_table := m[1];
    BEGIN
        backup_date := make_timestamptz(m[2]::int, m[3]::int, m[4]::int,
                                        coalesce(m[5], '0')::int, coalesce(m[6], '0')::int,
                                        coalesce(m[7], '0')::int, 'UTC');
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
        backup_date := NULL;
    END;
    -- 9999-12-31 24:00:00 rolls over into year 10000, which no client's datetime holds (Python's
    -- stops at 9999): one table so named made every read of the inventory fail in the tool.
    IF backup_date >= '10000-01-01 00:00:00+00'::timestamptz THEN
        backup_date := NULL;
    END IF;
END
$$;

-- Who is calling: the session's effective role (SET ROLE), else its login role. Inside a SECURITY
-- DEFINER function current_user is the definer, but the `role` setting still says what the session
-- set, and a session can set it only to a role it is a member of: it cannot be forged.
CREATE OR REPLACE FUNCTION backup.caller() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END $$;

-- The owner of schema backup: the one role that owns everything in it and makes every backup.
CREATE OR REPLACE FUNCTION backup.owner_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT n.nspowner::regrole::text FROM pg_namespace n WHERE n.nspname = 'backup' $$;

-- Why the owner's rights must not be used on this table in schema backup (NULL: they may): a table
-- another role owns is that role's to change (a policy, a trigger, a column type of its own), so
-- counting, copying or dropping it with the owner's rights would run that role's code as the owner.
CREATE OR REPLACE FUNCTION backup.not_ours(table_oid oid) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('backup.%I belongs to %s, not to the backup schema''s owner %s', c.relname,
                  c.relowner::regrole, n.nspowner::regrole)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = table_oid AND c.relowner <> n.nspowner
$$;

-- Why `who` may not copy the table `source` whole (NULL: it may): a backup holds only what its
-- maker could read. System catalogs and other sessions' temporary tables are never copied; every
-- column must be readable by `who`, and no row-level security policy may hide rows from it (a copy
-- is made with row_security off, by the schema's owner: the check is here, for the maker).
CREATE OR REPLACE FUNCTION backup.may_copy(who text, source oid) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    t record;
    v_cols text;
BEGIN
    SELECT a.oid, a.rolsuper, a.rolbypassrls INTO r FROM pg_roles a WHERE a.rolname = who;
    IF NOT FOUND THEN
        RETURN format('role %s does not exist', quote_ident(who));
    END IF;
    SELECT c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relowner, c.relpersistence,
           n.nspname INTO t
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source;
    IF NOT FOUND THEN
        RETURN 'the table does not exist';
    END IF;
    IF t.nspname IN ('pg_catalog', 'information_schema') OR t.nspname LIKE 'pg\_toast%' THEN
        RETURN format('%I.%I is a system catalog: backup-tui never copies those', t.nspname, t.relname);
    END IF;
    IF t.relpersistence = 't' THEN
        RETURN format('%I.%I is a temporary table', t.nspname, t.relname);
    END IF;
    IF t.relkind NOT IN ('r', 'p') THEN
        RETURN format('%I.%I is not a table', t.nspname, t.relname);
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
      FROM pg_attribute a
     WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
       AND NOT has_column_privilege(r.oid, source, a.attnum, 'SELECT');
    IF v_cols IS NOT NULL THEN
        RETURN format('%s may not read %s of %I.%I', quote_ident(who),
                      CASE WHEN v_cols LIKE '%,%' THEN 'columns ' ELSE 'column ' END || v_cols, t.nspname, t.relname);
    END IF;
    IF t.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls OR (t.relowner = r.oid AND NOT t.relforcerowsecurity)) THEN
        RETURN format('%I.%I has row-level security: its policies would show %s only some rows', t.nspname,
                      t.relname, quote_ident(who));
    END IF;
    -- A foreign table among its partitions or children would be read through the owner's user mapping.
    IF EXISTS (WITH RECURSIVE below(oid) AS (
                   SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = source
                   UNION SELECT i.inhrelid FROM pg_inherits i JOIN below b ON i.inhparent = b.oid)
               SELECT 1 FROM below b JOIN pg_class c ON c.oid = b.oid WHERE c.relkind = 'f') THEN
        RETURN format('%I.%I has a foreign table among its partitions or children', t.nspname, t.relname);
    END IF;
    RETURN NULL;
END
$fn$;

-- True when the table was created by the current transaction (or one of its subtransactions): its
-- catalog row is visible, so it is committed or ours, and it is in progress, so it is ours. What
-- makes a restore's audit row evidence: no caller can name an older table as "restored".
CREATE OR REPLACE FUNCTION backup.created_here(table_oid oid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- The catalog row's xmin is 32 bits; pg_xact_status takes the full 64-bit id, which is the one
    -- within 2^31 of the current transaction's (a subtransaction's id comes after its parent's).
    SELECT coalesce(pg_xact_status((CASE WHEN y.id > y.cur + 2147483648 THEN y.id - 4294967296
                                         WHEN y.id < y.cur - 2147483648 THEN y.id + 4294967296
                                         ELSE y.id END)::text::xid8) = 'in progress', false)
      FROM (SELECT ((x.cur >> 32) << 32) | x.xmin AS id, x.cur
              FROM (SELECT c.xmin::text::bigint AS xmin, pg_current_xact_id()::text::bigint AS cur
                      FROM pg_class c WHERE c.oid = table_oid) x) y
$$;

-- The first type `type_oid` is built from (itself, a domain's base, an array's element, a composite's
-- attributes, a range's subtype) that neither the system nor one of `trusted` owns, as
-- 'schema.type (owned by role)'; NULL when all are. A type's input, check constraints and
-- functions are code its owner wrote, run by whoever stores a value of it: a restore accepts only
-- the types its caller trusts.
CREATE OR REPLACE FUNCTION backup.untrusted_type(type_oid oid, trusted text[]) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE parts(oid) AS (
        SELECT type_oid
        UNION
        SELECT x.part
          FROM parts p JOIN pg_type t ON t.oid = p.oid
          CROSS JOIN LATERAL (
              SELECT t.typbasetype WHERE t.typtype = 'd'
              UNION ALL SELECT t.typelem WHERE t.typelem <> 0
              UNION ALL SELECT a.atttypid FROM pg_attribute a
                         WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
              UNION ALL SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid) x(part)
    )
    SELECT format('%s (owned by %s)', t.oid::regtype, t.typowner::regrole)
      FROM parts p JOIN pg_type t ON t.oid = p.oid
     WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
       AND t.typowner <> 10  -- the bootstrap superuser, who owns what initdb made
       AND t.typowner::regrole::text <> ALL (trusted)
     ORDER BY t.oid = type_oid DESC
     LIMIT 1
$$;

-- Whether ANALYZE of a column of this type runs only the system's code: a range (or multirange,
-- or a domain over one) calls its subtype_diff function, which may be anyone's SQL.
CREATE OR REPLACE FUNCTION backup.analyze_safe(type_oid oid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE base(oid, depth) AS (
        SELECT type_oid, 0
        UNION ALL
        SELECT t.typbasetype, b.depth + 1 FROM base b JOIN pg_type t ON t.oid = b.oid
         WHERE t.typtype = 'd' AND b.depth < 32
    )
    SELECT NOT EXISTS (
        SELECT 1 FROM base b JOIN pg_range r ON r.rngtypid = b.oid OR r.rngmultitypid = b.oid
          JOIN pg_proc f ON f.oid = r.rngsubdiff
         WHERE f.pronamespace <> 'pg_catalog'::regnamespace)
$$;

-- A timestamp this tool (and any client's datetime) can hold: finite, year 1 to 9999; else NULL.
-- One metadata row dated 'infinity' (an INSERT by hand, a hostile manifest) made every read of the
-- inventory fail in 0.2; reads pass dates through this, and the plan reviews such a row.
CREATE OR REPLACE FUNCTION backup.valid_date(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN isfinite(t) AND t >= '0001-01-01 00:00:00+00'::timestamptz
                     AND t < '10000-01-01 00:00:00+00'::timestamptz THEN t END
$$;
