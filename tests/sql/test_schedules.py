"""Scheduled backups in SQL: cron expressions, the runner's promises (each schedule its own
transaction, failures recorded and never stopping the others, two runners never making the same
backup, one catch-up after missed runs, a locked table never hangs it), pause and resume."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql

from tests.conftest import make_table, scalar

UTC = timezone.utc
AT = datetime(2026, 11, 25, 4, 50, tzinfo=UTC)  # a Wednesday


def _one(conn: psycopg.Connection, query: str, *args: object) -> object:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    ("expr", "words", "previous", "following"),
    [
        ("0 2 * * *", "every day at 02:00 UTC", datetime(2026, 11, 25, 2, 0), [datetime(2026, 11, 26, 2, 0)]),
        ("*/15 * * * *", "every 15 minutes", datetime(2026, 11, 25, 4, 45), [datetime(2026, 11, 25, 5, 0)]),
        ("30 3 * * 0", "every Sunday at 03:30 UTC", datetime(2026, 11, 22, 3, 30), [datetime(2026, 11, 29, 3, 30)]),
        (
            "0 4 1 * *",
            "on day 1 of every month at 04:00 UTC",
            datetime(2026, 11, 1, 4, 0),
            [datetime(2026, 12, 1, 4, 0)],
        ),
        ("@weekly", "every Sunday at 00:00 UTC", datetime(2026, 11, 22), [datetime(2026, 11, 29)]),
        (
            "0 9-17/4 * * mon-fri",
            "cron 0 9-17/4 * * mon-fri (UTC)",
            datetime(2026, 11, 24, 17, 0),
            [datetime(2026, 11, 25, 9, 0)],
        ),
        ("50 4 * * *", "every day at 04:50 UTC", datetime(2026, 11, 25, 4, 50), [datetime(2026, 11, 26, 4, 50)]),
        # both day fields restricted: either matches (cron's rule): the 1st, or a Friday
        ("0 0 1 * fri", "cron 0 0 1 * fri (UTC)", datetime(2026, 11, 20), [datetime(2026, 11, 27)]),
        ("0 0 29 2 *", "every year on February 29 at 00:00 UTC", datetime(2024, 2, 29), [datetime(2028, 2, 29)]),
    ],
)
def test_cron_expressions_in_words_and_in_time(
    installed: psycopg.Connection, expr: str, words: str, previous: datetime, following: list[datetime]
) -> None:
    assert _one(installed, "SELECT backup.cron_words(%s)", expr) == words
    assert _one(installed, "SELECT backup.cron_prev(%s, %s)", expr, AT) == previous.replace(tzinfo=UTC)
    nexts = [r[0] for r in installed.execute("SELECT backup.cron_next(%s, %s, 1)", (expr, AT))]
    assert nexts == [f.replace(tzinfo=UTC) for f in following]


def test_next_runs_agree_with_a_minute_by_minute_search(installed: psycopg.Connection) -> None:
    """cron_next against the definition, checked minute by minute over two days (Python side)."""
    minutes = [AT + timedelta(minutes=i) for i in range(1, 2 * 1440)]

    def fires(expr: str, t: datetime) -> bool:
        return bool(_one(installed, "SELECT backup.cron_prev(%s, %s) = %s", expr, t, t))

    for expr in ("*/7 3-5 * * *", "15 */6 * * 4,5", "0 0 26 11 *"):
        expected = [t for t in minutes if fires(expr, t)][:3]
        got = [r[0] for r in installed.execute("SELECT backup.cron_next(%s, %s, 3)", (expr, AT))]
        assert got[: len(expected)] == expected, expr


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("0 2 * *", "five fields are needed"),
        ("61 * * * *", 'the minute field allows 0-59, not "61"'),
        ("0 25 * * *", 'the hour field allows 0-23, not "25"'),
        ("0 2 * * funday", "the day-of-week field has"),
        ("*/0 * * * *", "bad step"),
        ("", "five fields are needed"),
        ("0 2 * * *; DROP TABLE x", "five fields are needed"),
    ],
)
def test_a_bad_cron_is_one_clear_line_and_nothing_is_added(installed: psycopg.Connection, expr: str, says: str) -> None:
    make_table(installed, "orders")
    with pytest.raises(psycopg.errors.InvalidParameterValue) as raised:
        installed.execute("SELECT backup.add_schedule('orders', 'daily', %s)", (expr,))
    assert says in str(raised.value) and "invalid cron expression" in str(raised.value)
    with pytest.raises(psycopg.errors.InvalidParameterValue):  # straight into the table: the trigger
        installed.execute(
            "INSERT INTO backup.backup_schedule (source_table, backup_kind, cron) VALUES ('orders', 'daily', %s)",
            (expr,),
        )
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0


def test_unknown_tables_and_kinds_are_refused_by_name(installed: psycopg.Connection) -> None:
    make_table(installed, "orders")
    with pytest.raises(psycopg.errors.UndefinedTable, match="table public.nope does not exist"):
        installed.execute("SELECT backup.add_schedule('nope', 'daily', '0 2 * * *')")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='unknown backup kind "hourly"'):
        installed.execute("SELECT backup.add_schedule('orders', 'hourly', '0 2 * * *')")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0


def _schedule(
    conn: psycopg.Connection, table: str, cron: str, kind: str = "daily", created: datetime | None = None
) -> int:
    schedule_id = _one(conn, "SELECT backup.add_schedule(%s, %s, %s)", table, kind, cron)
    conn.execute(
        "UPDATE backup.backup_schedule SET created_at = %s WHERE id = %s",
        (created or AT - timedelta(days=30), schedule_id),
    )
    return int(schedule_id)  # type: ignore[call-overload]


def _made(conn: psycopg.Connection, schedule_id: int) -> int:
    return int(scalar(conn, f"SELECT count(*) FROM backup.backup_metadata WHERE schedule_id = {schedule_id}"))


def test_due_backups_are_made_once_a_failure_is_recorded_and_never_stops_the_others(
    installed: psycopg.Connection,
) -> None:
    for table in ("orders", "gone", "users"):
        make_table(installed, table)
    orders = _schedule(installed, "orders", "0 2 * * *")
    gone = _schedule(installed, "gone", "0 3 * * *")
    users = _schedule(installed, "users", "30 4 * * *")
    later = _schedule(installed, "users", "0 5 * * *", kind="weekly", created=AT - timedelta(minutes=1))  # new
    installed.execute("DROP TABLE public.gone")
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    assert (_made(installed, orders), _made(installed, gone), _made(installed, users), _made(installed, later)) == (
        1,
        0,
        1,
        0,
    )
    rows = {
        r[0]: r[1:]
        for r in installed.execute("SELECT id, last_result, last_error, last_run_at FROM backup.backup_schedule")
    }
    assert rows[gone][0] == "failed" and "public.gone does not exist" in rows[gone][1]
    assert rows[orders][0] == "ok" and rows[orders][2] == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert rows[later][0] is None  # made a minute ago: its first run is at 05:00
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit WHERE action = 'schedule-failed'") == 1
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))  # again at the same time: nothing is due
    assert _made(installed, orders) == 1 and _made(installed, users) == 1
    reason = scalar(installed, f"SELECT backup_reason FROM backup.backup_metadata WHERE schedule_id = {orders}")
    assert reason == "scheduled daily backup of orders"


def test_missed_runs_make_one_catch_up_backup(installed: psycopg.Connection) -> None:
    make_table(installed, "orders")
    every_hour = _schedule(installed, "orders", "0 * * * *", created=AT - timedelta(days=3))
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))  # 72 slots were missed
    assert _made(installed, every_hour) == 1
    last = _one(installed, "SELECT last_run_at FROM backup.backup_schedule WHERE id = %s", every_hour)
    assert last == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def test_two_runners_never_make_the_same_backup(installed: psycopg.Connection, dsn: str) -> None:
    """A second runner finds the schedule row locked (another runner is making it) and passes it
    by; once the first commits, the schedule is no longer due for anyone."""
    make_table(installed, "orders")
    schedule_id = _schedule(installed, "orders", "0 2 * * *")
    with psycopg.connect(dsn) as first:
        first.execute("SELECT * FROM backup.run_schedule(%s, %s, true)", (schedule_id, AT))  # not committed yet
        installed.execute("CALL backup.run_due_backups(%s)", (AT,))  # the second runner, meanwhile
        assert _made(installed, schedule_id) == 0  # it skipped the locked row
        first.commit()
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    assert _made(installed, schedule_id) == 1


def test_a_locked_table_fails_its_run_after_a_bounded_wait_and_the_others_go_on(
    installed: psycopg.Connection, dsn: str
) -> None:
    for table in ("orders", "users"):
        make_table(installed, table)
    locked = _schedule(installed, "orders", "0 2 * * *")
    free = _schedule(installed, "users", "0 2 * * *")
    with psycopg.connect(dsn) as migration:
        migration.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        installed.execute("SET lock_timeout = '300ms'")
        installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    error = _one(installed, "SELECT last_error FROM backup.backup_schedule WHERE id = %s", locked)
    assert "lock timeout after 300ms" in str(error) and "public.orders is locked" in str(error)
    assert _made(installed, free) == 1 and _made(installed, locked) == 0


def test_a_paused_schedule_does_not_run_and_resuming_does_not_make_up_missed_runs(
    installed: psycopg.Connection,
) -> None:
    make_table(installed, "orders")
    schedule_id = _schedule(installed, "orders", "*/5 * * * *")
    installed.execute("SELECT backup.update_schedule(%s, enabled => false)", (schedule_id,))
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    assert _made(installed, schedule_id) == 0
    installed.execute("SELECT backup.update_schedule(%s, enabled => true)", (schedule_id,))
    installed.execute("CALL backup.run_due_backups(now())")  # resumed just now: nothing due yet
    assert _made(installed, schedule_id) == 0
    actions = [
        r[0]
        for r in installed.execute("SELECT action FROM backup.backup_audit WHERE action LIKE 'schedule-%' ORDER BY id")
    ]
    assert actions == ["schedule-add", "schedule-pause", "schedule-resume"]


def test_schedule_rows_say_what_each_made_and_flag_the_overdue(installed: psycopg.Connection) -> None:
    make_table(installed, "orders")
    schedule_id = _schedule(installed, "orders", "0 2 * * *", created=AT - timedelta(days=5))
    row = installed.execute(
        "SELECT words, next_run, overdue, backups FROM backup.schedule_rows(%s) WHERE id = %s", (AT, schedule_id)
    ).fetchone()
    assert row == ("every day at 02:00 UTC", datetime(2026, 11, 26, 2, 0, tzinfo=UTC), True, 0)  # missed 5 nights
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    row = installed.execute(
        "SELECT overdue, backups, backup_bytes > 0 FROM backup.schedule_rows(%s) WHERE id = %s", (AT, schedule_id)
    ).fetchone()
    assert row == (False, 1, True)


def test_hostile_table_names_are_scheduled_and_backed_up_quoted(installed: psycopg.Connection) -> None:
    name = 'it\'s "odd"; DROP TABLE x; --'
    installed.execute(sql.SQL("CREATE TABLE public.{} AS SELECT 1 AS a").format(sql.Identifier(name)))
    schedule_id = _schedule(installed, name, "0 2 * * *")
    installed.execute("CALL backup.run_due_backups(%s)", (AT,))
    assert _made(installed, schedule_id) == 1
