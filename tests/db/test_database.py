"""tui.db.Database, the one door: errors with a kind, and one loop for writes to many backups."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.conftest import make_table
from tui.db import Database, DatabaseError, ErrorKind, Settings
from tui.model import Outcome, Status, StopReason


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


def test_an_archive_waiting_in_vain_names_who_holds_the_backup(database: Database, dsn: str, tmp_path) -> None:
    """#26: the lock-timeout message names the holder (as the drop dialog's live line does)."""
    (name,) = _backups(database, 1)
    with psycopg.connect(dsn) as holder:
        holder.execute("SET application_name = 'a long report'")
        holder.execute(f'LOCK TABLE backup."{name}" IN ROW EXCLUSIVE MODE')  # a writer: archive waits
        result = database.archive_many([name], str(tmp_path), lambda _: None, lambda _: None, threading.Event())
        pid = holder.info.backend_pid
    (item,) = result.items
    assert item.outcome is Outcome.FAILED
    assert item.error is not None and f"is held by pid {pid} (" in item.error and "a long report" in item.error
    assert database.inventory(database.schema_state(), names=[name])[0].status is not Status.ARCHIVED


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


def test_drop_many_is_one_round_trip_a_batch_whatever_the_batch(database: Database, dsn: str) -> None:
    """#25: a drop of n was two round trips (three before, eight in 0.2) for each backup; now one
    call per batch with its COMMIT, each backup's result, in order, and progress per backup."""
    from tests.roundtrips import round_trips

    names = _backups(database, 12)
    seen: list = []
    trips, statements = round_trips(database, lambda: database.drop_many(names, progress=seen.append, batch_size=5))
    assert trips == 3, statements  # three batches, one round trip each
    assert sum("drop_table_backups" in s for s in statements) == 3, statements
    assert [(i.name, i.outcome) for i in seen] == [(n, Outcome.DONE) for n in names]
    assert all(i.freed_bytes > 0 for i in seen)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM backup.backup_metadata").fetchone() == (0,)


def test_a_batch_words_each_failure_as_a_lone_drop_would_and_commits_the_rest(database: Database, dsn: str) -> None:
    names = _backups(database, 4)
    database.session.run(lambda conn: conn.execute(f'CREATE VIEW public.leans_on AS SELECT * FROM backup."{names[2]}"'))
    alone = {}
    for name in ("no_such_backup", "backup_metadata", names[2]):
        with pytest.raises(DatabaseError) as refused:
            database.drop(name)
        alone[name] = str(refused.value)
    with psycopg.connect(dsn) as holder:
        holder.execute("SET application_name = 'the holder'")
        holder_pid = holder.info.backend_pid
        holder.execute(f'LOCK TABLE backup."{names[1]}" IN ACCESS SHARE MODE')
        with Database(Settings(dsn=dsn, lock_timeout="200ms")) as impatient:
            batch = [
                names[0],
                "no_such_backup",
                names[1],
                "backup_metadata",
                names[2],
                'x"; DROP TABLE t; --',
                names[3],
            ]
            result = impatient.drop_many(batch)
    assert [(i.name, i.outcome) for i in result.items] == [
        (names[0], Outcome.DONE),
        ("no_such_backup", Outcome.FAILED),
        (names[1], Outcome.FAILED),
        ("backup_metadata", Outcome.FAILED),
        (names[2], Outcome.FAILED),
        ('x"; DROP TABLE t; --', Outcome.FAILED),
        (names[3], Outcome.DONE),
    ]
    errors = {i.name: i.error for i in result.items}
    for name, words in alone.items():
        assert errors[name] == words  # the same words as when it is dropped alone
    # The lock timeout names who holds the table: what the on-call engineer acts on.
    assert (errors[names[1]] or "").startswith(f"lock timeout: backup.{names[1]} is held by pid {holder_pid} (")
    assert "the holder, idle in transaction for " in (errors[names[1]] or "")
    assert result.stopped is None and all("\n" not in (i.error or "") for i in result.items)
    with psycopg.connect(dsn) as conn:
        left = {r[0] for r in conn.execute("SELECT backup_table_name FROM backup.backup_metadata")}
        assert left == {names[1], names[2]}
        assert conn.execute("SELECT to_regclass('public.t') IS NOT NULL").fetchone() == (True,)


def test_a_cancel_stops_before_the_next_and_reports_the_rest_not_attempted(database: Database) -> None:
    names = _backups(database, 3)
    stop = threading.Event()

    def stop_after_first(item) -> None:
        stop.set()

    result = database.drop_many(names, progress=stop_after_first, cancel=stop, batch_size=1)
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


def test_exact_sizes_patch_estimated_rows_sharing_their_values(database: Database, dsn: str) -> None:
    """The TUI's last load step reads sizes alone: a backup created meanwhile comes whole, one
    dropped meanwhile is left out, and every other value is the estimated row's own object."""
    from tui.model import SchemaState

    kept, dropped = _backups(database, 2)
    with psycopg.connect(dsn, autocommit=True) as conn:  # a table's catalog size is 0 until VACUUM
        conn.execute(f'INSERT INTO backup."{kept}" SELECT * FROM backup."{kept}"')
    estimated = database.inventory(SchemaState.CURRENT, estimate_sizes=True)
    assert not any(b.size_exact for b in estimated)
    database.drop(dropped)
    with psycopg.connect(dsn, autocommit=True) as conn:  # another table under the dropped one's name
        conn.execute(f'CREATE TABLE backup."{dropped}" (x int)')
    created = database.create("t", "copy 2")

    exact = {b.backup_table_name: b for b in database.with_exact_sizes(estimated)}

    assert set(exact) == {kept, created, dropped}
    assert exact[dropped].status is Status.UNREGISTERED and exact[dropped].backup_reason is None
    before = next(b for b in estimated if b.backup_table_name == kept)
    truth = {b.backup_table_name: b for b in database.inventory(SchemaState.CURRENT)}
    for name in exact:
        assert exact[name].size_exact and exact[name].size_bytes == truth[name].size_bytes
    assert exact[kept] is before  # sized in place: the rows are not built twice
    assert exact[created].backup_reason == "copy 2"


def test_repeated_values_are_one_object_across_rows(database: Database) -> None:
    from tui.model import SchemaState

    _backups(database, 3)
    rows = database.inventory(SchemaState.CURRENT)
    assert len({id(b.original_table_name) for b in rows}) == 1
    assert len({id(b.created_by) for b in rows}) == 1
