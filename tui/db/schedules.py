"""Scheduled backups: the schedules (sql/definitions/schedules.sql), the runner, and pg_cron's jobs
that call it. pg_cron is optional: the same runner is `backup-tui run-due` for the system's cron."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import psycopg

from tui.model import CronJob, CronState, DueRun, Schedule

RUN_DUE = "CALL backup.run_due_backups()"
PRUNE = "CALL backup.apply_prune()"


def job_names(dbname: str) -> tuple[str, str]:
    """Stable names for our two pg_cron jobs, per database (one cron database can serve several)."""
    return f"backup-tui: run due backups in {dbname}", f"backup-tui: nightly prune in {dbname}"


def send_schedules(conn: psycopg.Connection, at: datetime | None = None) -> Callable[[], list[Schedule]]:
    """Sends the schedules' query; how to read them once they arrived."""
    cur = conn.execute("SELECT * FROM backup.schedule_rows(coalesce(%s::timestamptz, backup.as_of()))", (at,))
    return lambda: [Schedule(*row) for row in cur]


def list_schedules(conn: psycopg.Connection, at: datetime | None = None) -> list[Schedule]:
    return send_schedules(conn, at)()


def add_schedule(conn: psycopg.Connection, table: str, kind: str, cron: str, reason: str | None, schema: str) -> int:
    row = conn.execute(
        "SELECT backup.add_schedule(%s::text, %s::text, %s::text, %s::text, %s::text)",
        (table, kind, cron, reason, schema),
    ).fetchone()
    assert row is not None
    return int(row[0])


def update_schedule(
    conn: psycopg.Connection,
    schedule_id: int,
    *,
    kind: str | None = None,
    cron: str | None = None,
    reason: str | None = None,
    enabled: bool | None = None,
) -> None:
    conn.execute(
        "SELECT backup.update_schedule(%s::bigint, %s::text, %s::text, %s::text, %s::boolean)",
        (schedule_id, kind, cron, reason, enabled),
    )


def remove_schedule(conn: psycopg.Connection, schedule_id: int) -> None:
    conn.execute("SELECT backup.remove_schedule(%s::bigint)", (schedule_id,))


def run_schedule(conn: psycopg.Connection, schedule_id: int) -> tuple[str | None, str | None]:
    """Run one schedule now: (the backup's name, None) or (None, the error), recorded on it."""
    row = conn.execute(
        "SELECT * FROM backup.run_schedule(%s::bigint, pg_catalog.now(), false)", (schedule_id,)
    ).fetchone()
    if row is None:
        return None, "another runner is making this schedule's backup right now"
    return row[0], row[1]


def preview(conn: psycopg.Connection, cron: str, count: int = 3) -> tuple[str, list[datetime]]:
    """'every day at 02:00 UTC' and the next `count` runs; a bad expression raises its one line."""
    row = conn.execute(
        "SELECT backup.cron_words(%s::text), ARRAY(SELECT backup.cron_next(%s::text, pg_catalog.now(), %s::integer))",
        (cron, cron, count),
    ).fetchone()
    assert row is not None
    return row[0], list(row[1])


def due(conn: psycopg.Connection, at: datetime | None = None) -> list[DueRun]:
    rows = conn.execute(
        "SELECT * FROM backup.due_schedules(coalesce(%s::timestamptz, pg_catalog.now()))", (at,)
    ).fetchall()
    return [DueRun(*row) for row in rows]


def run_due(conn: psycopg.Connection, at: datetime | None = None) -> None:
    """CALL backup.run_due_backups: commits per schedule, so the connection must be in autocommit."""
    if at is None:
        conn.execute("CALL backup.run_due_backups(pg_catalog.now())")
    else:
        conn.execute("CALL backup.run_due_backups(%s::timestamptz)", (at,))


def schedules_of(conn: psycopg.Connection, key: str) -> list[int]:
    """A schedule's id from what a person types: its id, or a table (`orders`, `sales.orders`)."""
    if re.fullmatch(r"[0-9]+", key):  # ASCII digits only: '²' and '٣' are not schedule ids
        found = conn.execute("SELECT 1 FROM backup.backup_schedule WHERE id = %s", (int(key),)).fetchone()
        return [int(key)] if found else []
    schema, _, table = key.rpartition(".")
    rows = conn.execute(
        "SELECT id FROM backup.backup_schedule WHERE source_table = %s AND (%s = '' OR source_schema = %s) ORDER BY id",
        (table, schema, schema),
    ).fetchall()
    return [r[0] for r in rows]


# -- pg_cron ------------------------------------------------------------------------------------


# Where pg_cron is, in one statement. cron.database_name is a superuser-only setting
# (pg_read_all_settings may read it too): read only when the role may (CASE evaluates lazily), so
# operators and reviewers see "not visible", never an error.
_CRON_STATE = """
SELECT e.extversion, r.readable,
       CASE WHEN r.readable THEN current_setting('cron.database_name', true) END,
       CASE WHEN e.extversion IS NOT NULL
            THEN has_schema_privilege('cron', 'USAGE') AND has_table_privilege('cron.job', 'SELECT')
                 AND has_table_privilege('cron.job_run_details', 'SELECT') END
  FROM (SELECT pg_has_role('pg_read_all_settings', 'USAGE')
               OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS readable) r
  LEFT JOIN pg_extension e ON e.extname = 'pg_cron'
"""


def send_cron_state(conn: psycopg.Connection) -> Callable[[], CronState]:
    """Sends the question where pg_cron is: here, in another database of this server
    (cron.database_name), or nowhere; how to read the answer."""
    cur = conn.execute(_CRON_STATE)
    dbname = conn.info.dbname

    def read() -> CronState:
        version, readable, database, jobs = cur.fetchone() or (None, False, None, False)
        if version:
            return CronState(
                installed=True,
                here=True,
                cron_database=dbname,
                database=dbname,
                version=version,
                jobs_readable=bool(jobs),
            )
        if not readable:
            return CronState(installed=False, here=False, cron_database=None, database=dbname, visible=False)
        cron_db = database or None
        return CronState(installed=cron_db is not None, here=False, cron_database=cron_db, database=dbname)

    return read


def cron_state(conn: psycopg.Connection) -> CronState:
    return send_cron_state(conn)()


def cron_commands(state: CronState, prune_at: str = "03:00") -> list[str]:
    """The SQL that installs our two jobs, in the database pg_cron lives in (for the user to run
    there when it is not this one)."""
    hour, minute = _time(prune_at)
    run_name, prune_name = job_names(state.database)
    nightly = f"{minute} {hour} * * *"
    if state.here:
        return [
            f"SELECT cron.schedule({_lit(run_name)}, '* * * * *', {_lit(RUN_DUE)});",
            f"SELECT cron.schedule({_lit(prune_name)}, {_lit(nightly)}, {_lit(PRUNE)});",
        ]
    db = _lit(state.database)
    return [
        f"SELECT cron.schedule_in_database({_lit(run_name)}, '* * * * *', {_lit(RUN_DUE)}, {db});",
        f"SELECT cron.schedule_in_database({_lit(prune_name)}, {_lit(nightly)}, {_lit(PRUNE)}, {db});",
    ]


def install_cron(conn: psycopg.Connection, prune_at: str = "03:00") -> list[str]:
    """Create (or update: the names are stable) our jobs; pg_cron must be in this database."""
    hour, minute = _time(prune_at)
    run_name, prune_name = job_names(conn.info.dbname)
    conn.execute("SELECT cron.schedule(%s, '* * * * *', %s)", (run_name, RUN_DUE))
    conn.execute("SELECT cron.schedule(%s, %s, %s)", (prune_name, f"{minute} {hour} * * *", PRUNE))
    return [run_name, prune_name]


def remove_cron(conn: psycopg.Connection) -> list[str]:
    names = list(job_names(conn.info.dbname))
    removed = []
    for name in names:
        if conn.execute("SELECT 1 FROM cron.job WHERE jobname = %s", (name,)).fetchone():
            conn.execute("SELECT cron.unschedule(%s)", (name,))
            removed.append(name)
    return removed


def send_cron_jobs(conn: psycopg.Connection) -> Callable[[], list[CronJob]]:
    """Our jobs (for this database) with their last run, from cron.job_run_details; none when this
    role may not read pg_cron's tables (pg_cron shows a role only its own jobs anyway). Sent; the
    returned call reads them. Only where pg_cron is here and readable (its tables are named)."""
    run_name, prune_name = job_names(conn.info.dbname)
    cur = conn.execute(
        "SELECT j.jobid, j.jobname, j.schedule, j.command, j.active, d.status, d.start_time, d.end_time, "
        "       d.return_message "
        "  FROM cron.job j "
        "  LEFT JOIN LATERAL (SELECT r.status, r.start_time, r.end_time, r.return_message "
        "                       FROM cron.job_run_details r WHERE r.jobid = j.jobid "
        "                      ORDER BY r.start_time DESC NULLS LAST LIMIT 1) d ON true "
        " WHERE j.jobname IN (%s::text, %s::text) ORDER BY j.jobname",
        (run_name, prune_name),
    )
    return lambda: [CronJob(*row) for row in cur]


Overview = tuple[list[Schedule], CronState, list[CronJob]]


def send_overview(conn: psycopg.Connection, at: datetime | None = None) -> Callable[[], Overview]:
    """The schedules, where pg_cron is and our jobs there: the schedules and pg_cron's whereabouts
    travel together, the jobs (when pg_cron is here and readable) after; how to read them all."""
    rows = send_schedules(conn, at)
    state = send_cron_state(conn)()
    jobs = send_cron_jobs(conn) if state.here and state.jobs_readable else list
    return lambda: (rows(), state, jobs())


def _time(text: str) -> tuple[int, int]:
    hour, _, minute = text.partition(":")
    if (
        not re.fullmatch(r"[0-9]{1,2}", hour)
        or not re.fullmatch(r"[0-9]{2}", minute)
        or int(hour) > 23
        or int(minute) > 59
    ):
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return int(hour), int(minute)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
