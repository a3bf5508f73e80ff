-- 001: the backup schema's tables, created fresh or adopted in place from the 2025 layout.
-- Idempotent: every statement checks before it changes. Runs inside the installer's transaction,
-- so a refusal (duplicate backup names) leaves the database exactly as it was.

CREATE SCHEMA IF NOT EXISTS backup;

-- The legacy view pins the column types we widen below; 003 creates the new one.
DROP VIEW IF EXISTS public.backup_inventory_view;
DROP VIEW IF EXISTS backup.backup_inventory;

CREATE TABLE IF NOT EXISTS backup.schema_version (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT session_user
);

CREATE TABLE IF NOT EXISTS backup.retention_policy (
    backup_kind  text PRIMARY KEY,
    keep_for     interval,              -- NULL: kept forever
    action       text NOT NULL CHECK (action IN ('delete', 'review', 'archive')),
    review_every interval,              -- how often a kept-forever backup comes up for review
    description  text NOT NULL
);

-- The team's policy; ON CONFLICT keeps whatever a DBA has edited since.
INSERT INTO backup.retention_policy (backup_kind, keep_for, action, review_every, description) VALUES
    ('pre-migration', interval '6 months',  'review',  NULL,               'taken before a migration; review for archival after 6 months'),
    ('daily',         interval '7 days',    'delete',  NULL,               'daily copy; deleted after 7 days'),
    ('weekly',        interval '4 weeks',   'delete',  NULL,               'weekly copy; deleted after 4 weeks'),
    ('monthly',       interval '12 months', 'archive', NULL,               'monthly copy; moved to cold storage after 12 months'),
    ('critical',      NULL,                 'review',  interval '12 months', 'kept forever; reviewed every 12 months'),
    ('manual',        interval '3 months',  'review',  NULL,               'taken by hand; reviewed after 3 months')
ON CONFLICT (backup_kind) DO NOTHING;

-- The legacy table has exactly these columns; a new install gets them too.
CREATE TABLE IF NOT EXISTS backup.backup_metadata (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    original_table_name text NOT NULL,
    backup_table_name   text NOT NULL,
    backup_date         timestamptz NOT NULL DEFAULT now(),
    row_count           bigint,
    backup_reason       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text DEFAULT session_user
);

DO $upgrade$
DECLARE
    dupes text;
BEGIN
    -- First the one refusal, so that it is the error a DBA sees.
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                    WHERE conrelid = 'backup.backup_metadata'::regclass
                      AND conname = 'backup_metadata_backup_table_name_key') THEN
        SELECT string_agg(format('%s (%s rows)', backup_table_name, n), ', ' ORDER BY backup_table_name)
          INTO dupes
          FROM (SELECT backup_table_name, count(*) AS n FROM backup.backup_metadata
                 GROUP BY backup_table_name HAVING count(*) > 1) d;
        IF dupes IS NOT NULL THEN
            RAISE EXCEPTION 'backup.backup_metadata has several rows for the same backup table: %', dupes
                USING ERRCODE = '23505',
                      HINT = 'delete the extra rows (keep one per backup_table_name) and run install again; nothing was changed';
        END IF;
        ALTER TABLE backup.backup_metadata
            ADD CONSTRAINT backup_metadata_backup_table_name_key UNIQUE (backup_table_name);
    END IF;

    -- Widen legacy columns in place (no-ops on a fresh install).
    IF (SELECT atttypid FROM pg_attribute
         WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'row_count') <> 'bigint'::regtype THEN
        ALTER TABLE backup.backup_metadata ALTER COLUMN row_count TYPE bigint;
    END IF;
    IF (SELECT atttypid FROM pg_attribute
         WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'backup_date') <> 'timestamptz'::regtype THEN
        ALTER TABLE backup.backup_metadata ALTER COLUMN backup_date TYPE timestamptz USING backup_date::timestamptz;
    END IF;
    ALTER TABLE backup.backup_metadata ALTER COLUMN created_by SET DEFAULT session_user;
    ALTER TABLE backup.backup_metadata ALTER COLUMN id SET DEFAULT gen_random_uuid();

    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                    WHERE conrelid = 'backup.backup_metadata'::regclass AND contype = 'p') THEN
        ALTER TABLE backup.backup_metadata ADD PRIMARY KEY (id);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'source_schema'
                      AND NOT attisdropped) THEN
        ALTER TABLE backup.backup_metadata ADD COLUMN source_schema text NOT NULL DEFAULT 'public';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'backup_kind'
                      AND NOT attisdropped) THEN
        ALTER TABLE backup.backup_metadata ADD COLUMN backup_kind text NOT NULL DEFAULT 'manual';
        -- The 2025 migration scripts wrote this reason; they were pre-migration copies.
        UPDATE backup.backup_metadata SET backup_kind = 'pre-migration'
         WHERE lower(btrim(backup_reason)) = 'pre-migration backup';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                    WHERE conrelid = 'backup.backup_metadata'::regclass
                      AND conname = 'backup_metadata_backup_kind_fkey') THEN
        INSERT INTO backup.retention_policy (backup_kind, keep_for, action, description)
        SELECT DISTINCT m.backup_kind, interval '3 months', 'review', 'kind found in existing metadata'
          FROM backup.backup_metadata m
         WHERE NOT EXISTS (SELECT 1 FROM backup.retention_policy p WHERE p.backup_kind = m.backup_kind);
        ALTER TABLE backup.backup_metadata
            ADD CONSTRAINT backup_metadata_backup_kind_fkey FOREIGN KEY (backup_kind)
            REFERENCES backup.retention_policy (backup_kind) ON UPDATE CASCADE;
    END IF;
END
$upgrade$;

-- Acknowledged reviews (backup.mark_reviewed): the next review is due one interval later.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS reviewed_at timestamptz;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS review_note text;

-- Cold storage (backup-tui archive): the table leaves the database, the row stays with its location.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS archived_at timestamptz;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS archive_location text;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS archive_manifest jsonb;

CREATE INDEX IF NOT EXISTS backup_metadata_source_idx
    ON backup.backup_metadata (source_schema, original_table_name, backup_date DESC);

CREATE TABLE IF NOT EXISTS backup.backup_audit (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor             text NOT NULL DEFAULT session_user,
    action            text NOT NULL,
    backup_table_name text,
    source_schema     text,
    source_table      text,
    row_count         bigint,
    size_bytes        bigint,
    detail            jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS backup_audit_backup_idx ON backup.backup_audit (backup_table_name, at DESC);
