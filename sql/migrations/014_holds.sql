-- 014: holds (#27). A held backup is kept whatever its policy says: the plan keeps it, drop,
-- archive and prune refuse it, until it is released or its hold runs out (hold_until). Who held it
-- (the role), when, why, and for whom (requested_by: the person, on a shared login) are kept here;
-- holding and releasing are audited.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS held_at timestamptz;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS held_by text;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS hold_reason text;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS hold_until timestamptz;

-- Who asked: the person behind a shared database user (every Supabase connection is `postgres`).
-- The client says it (`--by`, else its OS user, SUDO_USER and the SSH client's address) in the
-- transaction-local setting backup.requested_by; these defaults record it with every new backup
-- and every audited action, whichever of our functions writes them. It is what the client says,
-- as a commit's author is: `created_by` and the audit's `actor` remain the role that connected.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS requested_by text
    DEFAULT nullif(pg_catalog.current_setting('backup.requested_by', true), '');
ALTER TABLE backup.backup_audit ADD COLUMN IF NOT EXISTS requested_by text
    DEFAULT nullif(pg_catalog.current_setting('backup.requested_by', true), '');
