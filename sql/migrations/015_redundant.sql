-- 015: redundant copies (#27). A backup never changes once made, so its contents are fingerprinted
-- once (rows, an order-independent sum of row hashes, and its columns) and kept; a backup whose
-- fingerprint a newer backup of the same table shares, confirmed by an exact comparison, names that
-- newer backup in redundant_of. The plan says so, and `prune --redundant` drops such backups.
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS redundant_of text;
