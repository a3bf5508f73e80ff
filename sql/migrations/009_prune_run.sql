-- 009: the state apply_prune carries between its committed batches. The procedure itself only
-- loops over functions that have a fixed search_path (a procedure that commits cannot have one),
-- so its body names nothing a caller's search_path could shadow.
DO $type$
BEGIN
    IF to_regtype('backup.prune_run') IS NULL THEN
        CREATE TYPE backup.prune_run AS (
            due        text[],   -- the planned deletes, biggest first
            position   integer,  -- how many of them were handled so far
            batch_size integer,
            dropped    integer,
            skipped    integer,
            freed      bigint,
            finished   boolean
        );
    END IF;
END
$type$;
