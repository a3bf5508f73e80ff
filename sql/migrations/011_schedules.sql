-- 011: scheduled backups. One row per schedule: which table, which kind, when (a cron expression
-- in UTC, checked by backup.cron_parse), the reason's template, and what its last run did. Backups
-- a schedule made carry its id, so the schedules screen can say how many and how big.
DO $type$
BEGIN
    IF to_regtype('backup.cron_spec') IS NULL THEN
        CREATE TYPE backup.cron_spec AS (
            minutes     integer[],
            hours       integer[],
            days        integer[],   -- of the month
            months      integer[],
            weekdays    integer[],   -- 0 = Sunday
            any_day     boolean,     -- day-of-month starts with * (vixie cron's DOM_STAR)
            any_weekday boolean      -- day-of-week starts with * (DOW_STAR)
        );
    END IF;
END
$type$;

CREATE TABLE IF NOT EXISTS backup.backup_schedule (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_schema   text NOT NULL DEFAULT 'public',
    source_table    text NOT NULL,
    backup_kind     text NOT NULL REFERENCES backup.retention_policy (backup_kind) ON UPDATE CASCADE,
    cron            text NOT NULL,
    reason          text NOT NULL DEFAULT 'scheduled {kind} backup of {table}',
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL DEFAULT session_user,
    last_run_at     timestamptz,   -- the scheduled minute its last run was for
    last_attempt_at timestamptz,   -- when that run happened
    last_result     text CHECK (last_result IN ('ok', 'failed')),
    last_error      text,
    last_backup     text,
    UNIQUE (source_schema, source_table, backup_kind, cron)
);

ALTER TABLE backup.backup_metadata ADD COLUMN IF NOT EXISTS schedule_id bigint;
