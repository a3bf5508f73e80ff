-- 010: the last verification of an archive (backup-tui verify): when, and what it found. The
-- archive's own facts (location, manifest with its sha256 and row count) are 001's columns.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS verified_at timestamptz;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS verify_result text;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS verify_detail text;
DO $check$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'backup.backup_metadata'::regclass
                                                 AND conname = 'backup_metadata_verify_result_check') THEN
        ALTER TABLE backup.backup_metadata ADD CONSTRAINT backup_metadata_verify_result_check
            CHECK (verify_result IN ('ok', 'damaged', 'unreadable'));
    END IF;
END
$check$;
-- Archives made before 0.2 were verified when they were written.
UPDATE backup.backup_metadata SET verified_at = archived_at, verify_result = 'ok'
 WHERE archived_at IS NOT NULL AND verified_at IS NULL;
