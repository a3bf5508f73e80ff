-- 008: from 0.2 on, every function, procedure, view and grant lives in sql/definitions/ (each defined
-- once, re-applied by install when its text changes). This records which definition text is in
-- the database, and retires the 0.1 functions that no definition defines any more.
-- (002-007 were 0.1's function files: recorded in schema_version on databases installed by 0.1,
-- superseded by sql/definitions/ and never applied again.)

CREATE TABLE IF NOT EXISTS backup.schema_definitions (
    name       text PRIMARY KEY,           -- the file, e.g. 'plan'
    sha256     text NOT NULL,              -- of the file's text as applied
    tool       text NOT NULL,              -- the backup-tui version that applied it (none ever downgrades)
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT session_user
);

-- Folded into backup.age_words and backup.dependants.
DROP FUNCTION IF EXISTS backup.days_words(double precision);
DROP FUNCTION IF EXISTS backup.backup_dependants(oid);
