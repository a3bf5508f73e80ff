-- 013: dates a client can hold. A metadata row dated 'infinity', BC or after 9999 (an INSERT by
-- hand, a manifest's) made every read fail in 0.2; new ones are refused here, and rows already
-- there are read through backup.valid_date (the plan reviews them; they can be dropped).
-- NOT VALID: existing rows stay as they are until someone sets their date.
DO $dates$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = 'backup.backup_metadata'::regclass
                                                            AND conname = 'backup_metadata_dates_check') THEN
        ALTER TABLE backup.backup_metadata ADD CONSTRAINT backup_metadata_dates_check
            CHECK (pg_catalog.isfinite(backup_date)
                   AND backup_date >= '0001-01-01 00:00:00+00'::timestamptz
                   AND backup_date < '10000-01-01 00:00:00+00'::timestamptz
                   AND (archived_at IS NULL OR (pg_catalog.isfinite(archived_at)
                        AND archived_at >= '0001-01-01 00:00:00+00'::timestamptz
                        AND archived_at < '10000-01-01 00:00:00+00'::timestamptz)))
            NOT VALID;
    END IF;
END
$dates$;

-- A run recorded for a minute in the future (0.2's `run-due --at 9999-12-31T23:59`) silenced its
-- schedule for good: nothing was ever due again. A run never records a future minute now.
UPDATE backup.backup_schedule SET last_run_at = now() WHERE last_run_at > now();
