-- 002: create and drop, the only ways the product writes backups.
-- SECURITY INVOKER with a fixed search_path: callers need their own rights on the source table and
-- on schema backup, and no object in a caller's search_path can hijack a call.

-- The schema's own tables: never backups, never droppable through drop_table_backup.
CREATE OR REPLACE FUNCTION backup.internal_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ARRAY['backup_metadata', 'backup_audit', 'retention_policy', 'schema_version'] $$;

-- Small pure helpers carry no SET clause so the planner can inline them into per-row queries;
-- they only call built-ins (pg_catalog is searched first whatever the caller's search_path).

-- "Now" for retention decisions: the session's backup.as_of setting when set, else now(). Lets a
-- DBA ask what the status will be on a given day (SET backup.as_of = '2027-01-01'), and tests and
-- screenshots freeze time without touching the server's clock.
CREATE OR REPLACE FUNCTION backup.as_of() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(nullif(current_setting('backup.as_of', true), '')::timestamptz, now()) $$;

-- A retention interval in the words the policy uses: '7 days', '4 weeks', '12 months', 'forever'.
CREATE OR REPLACE FUNCTION backup.interval_words(i interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- One expression, no FROM: the planner inlines it into the plan query, where it runs for every
    -- row; date_part (double precision) rather than extract (numeric) for the same reason.
    SELECT CASE
        WHEN i IS NULL THEN 'forever'
        WHEN date_part('day', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0
             AND date_part('year', i) * 12 + date_part('month', i) > 0 THEN
            (date_part('year', i) * 12 + date_part('month', i))::int
            || CASE WHEN date_part('year', i) * 12 + date_part('month', i) = 1 THEN ' month' ELSE ' months' END
        WHEN date_part('year', i) * 12 + date_part('month', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0
             AND date_part('day', i) >= 14 AND date_part('day', i)::int % 7 = 0 THEN
            (date_part('day', i)::int / 7) || ' weeks'
        WHEN date_part('year', i) * 12 + date_part('month', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0 THEN
            date_part('day', i)::int || CASE WHEN date_part('day', i) = 1 THEN ' day' ELSE ' days' END
        ELSE justify_interval(i)::text
    END
$$;

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
END
$$;

-- What would stop DROP TABLE (no CASCADE): views, foreign keys, functions with SQL bodies, ...
-- in words, e.g. "view public.report". The table's own indexes, rules and constraints do not count.
-- No SET clause and fully qualified names, so the planner can inline it into plan queries.
CREATE OR REPLACE FUNCTION backup.backup_dependants(backup_oid oid) RETURNS SETOF text
LANGUAGE sql STABLE
AS $$
    SELECT DISTINCT
           CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                THEN (SELECT pg_catalog.format('view %I.%I', n.nspname, c.relname)
                        FROM pg_catalog.pg_rewrite r
                        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE r.oid = d.objid)
                ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END
      FROM pg_catalog.pg_depend d
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = backup_oid
       AND d.deptype = 'n'
       AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                AND (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid) = backup_oid)
       AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                AND (SELECT c.conrelid FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid) = backup_oid)
$$;

-- How old, in one unit, as people say it: '12 days', '13 months', '3 years'.
-- Two levels so both inline: the outer uses its argument once, the inner gets a cheap one.
CREATE OR REPLACE FUNCTION backup.days_words(d double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN d < 1 THEN 'less than a day'
        WHEN d < 60 THEN floor(d)::int || CASE WHEN floor(d) = 1 THEN ' day' ELSE ' days' END
        WHEN d < 730 THEN floor(d / 30.44)::int || ' months'
        ELSE floor(d / 365.25)::int || ' years'
    END
$$;

CREATE OR REPLACE FUNCTION backup.age_words(age interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT backup.days_words(date_part('epoch', age) / 86400) $$;

-- The legacy function had other parameter names, which CREATE OR REPLACE cannot change.
DROP FUNCTION IF EXISTS backup.create_table_backup(text, text);

CREATE OR REPLACE FUNCTION backup.create_table_backup(table_name text, reason text, kind text,
                                                      source_schema text DEFAULT 'public')
RETURNS text
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- The ANALYZE below is for relpages/reltuples (the planner, catalog size estimates), not for rich
-- column statistics on a copy nobody queries much: a tenth of the default sample keeps a backup of
-- a big table close to the cost of a bare CREATE TABLE AS.
SET default_statistics_target = 10
AS $fn$
#variable_conflict use_variable
DECLARE
    v_relkind "char";
    v_stamp   text := to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD_HH24MISS');
    v_suffix  text;
    v_name    text;
    v_n       integer := 1;
    v_rows    bigint;
    v_bytes   bigint;
BEGIN
    IF table_name IS NULL OR btrim(table_name) = '' THEN
        RAISE EXCEPTION 'a table name is required' USING ERRCODE = '22023';
    END IF;
    source_schema := coalesce(nullif(btrim(source_schema), ''), 'public');
    kind := coalesce(nullif(btrim(kind), ''), 'manual');

    IF NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = kind) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind
            USING ERRCODE = '22023',
                  HINT = 'known kinds: ' || (SELECT string_agg(p.backup_kind, ', ' ORDER BY p.backup_kind)
                                               FROM backup.retention_policy p);
    END IF;
    IF source_schema = 'backup' THEN
        RAISE EXCEPTION 'cannot back up backup.%: tables in schema backup are backups themselves',
            quote_ident(table_name) USING ERRCODE = '42809';
    END IF;

    SELECT c.relkind INTO v_relkind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = source_schema AND c.relname = table_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% does not exist', quote_ident(source_schema), quote_ident(table_name)
            USING ERRCODE = '42P01';
    END IF;
    IF v_relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '%.% is a %, not a table', quote_ident(source_schema), quote_ident(table_name),
            CASE v_relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                           WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' ELSE 'relation' END
            USING ERRCODE = '42809';
    END IF;

    -- <table>_backup_<UTC stamp>[_N]: N makes several backups within one second (or one
    -- transaction, where now() stands still) unique. A base too long for 63 bytes is cut and
    -- given a hash of the full name, so the stamp always survives.
    LOOP
        v_suffix := '_backup_' || v_stamp || CASE WHEN v_n > 1 THEN '_' || v_n ELSE '' END;
        IF octet_length(table_name) + octet_length(v_suffix) <= 63 THEN
            v_name := table_name || v_suffix;
        ELSE
            v_name := backup.truncate_bytes(table_name, 63 - octet_length(v_suffix) - 7)
                      || '_' || left(md5(source_schema || '.' || table_name), 6) || v_suffix;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = v_name)
           AND NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name = v_name) THEN
            BEGIN
                EXECUTE format('CREATE TABLE backup.%I AS TABLE %I.%I', v_name, source_schema, table_name);
                EXIT;
            EXCEPTION WHEN duplicate_table THEN
                NULL;  -- a concurrent session took this name first: try the next one
            END;
        END IF;
        v_n := v_n + 1;
    END LOOP;

    -- CREATE TABLE AS reports the rows it wrote: no second scan of the copy.
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    EXECUTE format('ANALYZE backup.%I', v_name);
    v_bytes := pg_total_relation_size(format('backup.%I', v_name)::regclass);

    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                        backup_reason, created_by, source_schema, backup_kind)
    VALUES (table_name, v_name, now(), v_rows, reason, session_user, source_schema, kind);

    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES ('create', v_name, source_schema, table_name, v_rows, v_bytes,
            jsonb_build_object('kind', kind, 'reason', reason));

    RETURN v_name;
END
$fn$;

-- The 2025 signature. Its callers wrote 'Pre-migration backup' as the reason; keep their kind.
CREATE OR REPLACE FUNCTION backup.create_table_backup(table_name text, reason text DEFAULT NULL)
RETURNS text
LANGUAGE sql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT backup.create_table_backup(
        table_name, reason,
        CASE WHEN lower(btrim(reason)) LIKE 'pre-migration%' THEN 'pre-migration' ELSE 'manual' END,
        'public')
$$;

CREATE OR REPLACE FUNCTION backup.drop_table_backup(backup_table_name text) RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    m       backup.backup_metadata%ROWTYPE;
    v_oid   oid;
    v_bytes bigint := 0;
    v_deps  text;
    v_last  record;
BEGIN
    IF backup_table_name = ANY (backup.internal_tables()) THEN
        RAISE EXCEPTION 'backup.% is part of the backup schema itself, not a backup', quote_ident(backup_table_name)
            USING ERRCODE = '42809';
    END IF;

    -- The row lock makes a concurrent second drop wait, then find nothing: "already dropped".
    SELECT * INTO m FROM backup.backup_metadata b WHERE b.backup_table_name = backup_table_name FOR UPDATE;
    IF NOT FOUND THEN
        SELECT a.at, a.actor INTO v_last FROM backup.backup_audit a
         WHERE a.backup_table_name = backup_table_name AND a.action LIKE 'drop%'
         ORDER BY a.at DESC LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'backup % was already dropped (by % at %)',
                quote_ident(backup_table_name), v_last.actor, v_last.at USING ERRCODE = 'P0002';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_class c
                    WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name) THEN
            RAISE EXCEPTION 'backup.% is not a registered backup', quote_ident(backup_table_name)
                USING ERRCODE = '42809', HINT = 'register it with backup-tui adopt before dropping it';
        END IF;
        RAISE EXCEPTION 'no backup named % in schema backup', quote_ident(backup_table_name)
            USING ERRCODE = '42P01';
    END IF;

    SELECT c.oid INTO v_oid FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = backup_table_name AND c.relkind IN ('r', 'p');

    IF v_oid IS NOT NULL THEN
        -- Lock first so the size we report is the size we free; lock_timeout bounds the wait.
        EXECUTE format('LOCK TABLE backup.%I IN ACCESS EXCLUSIVE MODE', backup_table_name);

        SELECT string_agg(d, ', ' ORDER BY d) INTO v_deps FROM backup.backup_dependants(v_oid) d;
        IF v_deps IS NOT NULL THEN
            RAISE EXCEPTION 'cannot drop backup %: % depends on it', quote_ident(backup_table_name), v_deps
                USING ERRCODE = '2BP01', HINT = 'drop or change the dependent objects first; nothing was dropped';
        END IF;

        v_bytes := pg_total_relation_size(v_oid);
        EXECUTE format('DROP TABLE backup.%I', backup_table_name);
    END IF;

    DELETE FROM backup.backup_metadata b WHERE b.id = m.id;

    INSERT INTO backup.backup_audit (action, backup_table_name, source_schema, source_table, row_count,
                                     size_bytes, detail)
    VALUES (CASE WHEN v_oid IS NULL THEN 'drop-missing' ELSE 'drop' END, backup_table_name,
            m.source_schema, m.original_table_name, m.row_count, v_bytes,
            jsonb_build_object('id', m.id, 'kind', m.backup_kind, 'backup_date', m.backup_date,
                               'reason', m.backup_reason));
    RETURN v_bytes;
END
$fn$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backup FROM PUBLIC;
