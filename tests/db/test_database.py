"""tui.db.Database, the one door: errors with a kind, and one loop for writes to many backups."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.conftest import make_table
from tui.db import Database, DatabaseError, ErrorKind, Settings
from tui.model import Outcome, StopReason


@pytest.fixture
def database(installed: psycopg.Connection, settings: Settings) -> Database:
    with Database(settings) as door:
        yield door


def _backups(database: Database, count: int) -> list[str]:
    database.session.run(make_table, "t")
    return [database.create("t", f"copy {i}") for i in range(count)]


def test_errors_carry_their_kind(database: Database) -> None:
    with pytest.raises(DatabaseError) as missing:
        database.drop("no_such_backup")
    assert missing.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(DatabaseError) as internal:
        database.drop("backup_metadata")
    assert internal.value.kind is ErrorKind.REFUSED
    with pytest.raises(DatabaseError) as kind:
        database.create("t", "why", "hourly")
    assert kind.value.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND)


def test_a_lock_held_elsewhere_is_a_lock_timeout_and_words_nothing_of_a_front_end(database: Database, dsn: str) -> None:
    (name,) = _backups(database, 1)
    with psycopg.connect(dsn) as holder:
        holder.execute(f'LOCK TABLE backup."{name}" IN ACCESS SHARE MODE')
        with pytest.raises(DatabaseError) as err:
            database.drop(name)
    assert err.value.kind is ErrorKind.LOCK_TIMEOUT
    assert "press" not in str(err.value)


def test_drop_many_reports_each_and_goes_on_past_a_failure(database: Database) -> None:
    names = _backups(database, 2)
    seen = []
    result = database.drop_many([names[0], "no_such_backup", names[1]], progress=seen.append)
    assert [(i.name, i.outcome) for i in result.items] == [
        (names[0], Outcome.DONE),
        ("no_such_backup", Outcome.FAILED),
        (names[1], Outcome.DONE),
    ]
    assert seen == result.items and result.stopped is None and result.freed_bytes > 0


def test_a_cancel_stops_before_the_next_and_reports_the_rest_not_attempted(database: Database) -> None:
    names = _backups(database, 3)
    stop = threading.Event()

    def stop_after_first(item) -> None:
        stop.set()

    result = database.drop_many(names, progress=stop_after_first, cancel=stop)
    assert [i.outcome for i in result.items] == [Outcome.DONE, Outcome.NOT_ATTEMPTED, Outcome.NOT_ATTEMPTED]
    assert result.stopped is StopReason.CANCELLED


def test_a_lost_connection_stops_the_run_and_the_next_call_reconnects(database: Database, admin_dsn: str) -> None:
    names = _backups(database, 3)
    killed: list[int] = []

    def kill_our_backend(item) -> None:
        if killed:
            return
        pid = database.session.run(lambda conn: conn.info.backend_pid)
        killed.append(pid)
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    result = database.apply_prune(names, progress=kill_our_backend, batch_size=1)
    # Not due for deletion (fresh manual backups): the first batch reports that, then the line dies.
    assert result.stopped is StopReason.CONNECTION_LOST
    assert [i.outcome for i in result.items] == [Outcome.FAILED, Outcome.FAILED, Outcome.NOT_ATTEMPTED]
    assert "connection" in (result.items[1].error or "")
    assert database.schema_state().writable  # connected again
