"""One way to write (#24.4): every write is one transaction whose first statement sets everything,
transaction-locally, the write statement timeout included. 0.2 sent the preamble twice for one drop
(BEGIN, preamble, SAVEPOINT, preamble, statement_timeout, the call, RELEASE, COMMIT: 8 round
trips), and prune batches, `schedule run`, `adopt` and reviews ran without --statement-timeout.

Round trips are counted from libpq's own protocol trace (each Sync or simple Query the client
sends is one wait for the server), not timed."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_table, scalar
from tests.roundtrips import round_trips
from tui.db import Database, DatabaseError, Settings
from tui.model import SchemaState


def test_a_read_is_its_statements_and_two_round_trips(installed: psycopg.Connection, dsn: str) -> None:
    """schema_state read the catalogue in ten statements (and four round trips of transaction):
    now two statements, the first with BEGIN and the settings, the second with the COMMIT."""
    with Database(Settings(dsn=dsn)) as database:
        count, statements = round_trips(database, database.schema_state)
    assert count == 2, statements
    assert '"COMMIT"' in statements[-1], statements


def test_hostile_settings_reach_the_server_as_literals(installed: psycopg.Connection, dsn: str) -> None:
    """The settings go out inlined in the opening simple query: quoted, never spliced."""
    hostile = "5s', true); DROP TABLE backup.backup_metadata; SELECT ('"
    with Database(Settings(dsn=dsn, lock_timeout=hostile)) as database, pytest.raises(DatabaseError) as failed:
        database.schema_state()
    assert "lock_timeout" in str(failed.value) and "\n" not in str(failed.value)
    assert scalar(installed, "SELECT to_regclass('backup.backup_metadata') IS NOT NULL") is True
    with Database(Settings(dsn=dsn)) as database:  # and the session is usable after the refusal
        assert database.schema_state() is SchemaState.CURRENT


def test_one_write_is_one_round_trip_with_one_preamble(installed: psycopg.Connection, dsn: str) -> None:
    """BEGIN, the settings, the call and COMMIT in one round trip (pipeline mode; the result is
    read after the COMMIT): for each write of one backup (the issue's budget: at most 2)."""
    make_table(installed, "t", rows=3)
    name = scalar(installed, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    writes = {
        "create": lambda database: database.create("t", "again", "manual"),
        "mark_reviewed": lambda database: database.mark_reviewed(name, "seen"),
        "drop": lambda database: database.drop(name),
    }
    for what, write in writes.items():
        with Database(Settings(dsn=dsn)) as database:
            count, statements = round_trips(database, lambda write=write, database=database: write(database))
        assert count == 1, (what, statements)
        assert '"BEGIN"' in statements[0], (what, statements)
        assert "set_config('search_path'" in statements[1], (what, statements)
        assert sum("set_config('search_path'" in s for s in statements) == 1, (what, statements)
        assert not any("SAVEPOINT" in s for s in statements), (what, statements)
        assert "COMMIT" in statements[-1], (what, statements)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_reason = 'r'") == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_reason = 'again'") == 1


def test_a_failing_pipelined_write_changes_nothing_and_leaves_the_session_usable(
    installed: psycopg.Connection, dsn: str
) -> None:
    """In a pipeline the error surfaces when the result is waited for: the transaction is rolled
    back, the error is the server's, one line, and the next call works."""
    make_table(installed, "t", rows=3)
    with Database(Settings(dsn=dsn)) as database:
        with pytest.raises(DatabaseError) as failed:
            database.drop("no_such_backup_20250101")
        assert "\n" not in str(failed.value) and "no_such_backup_20250101" in str(failed.value)
        with pytest.raises(DatabaseError):
            database.mark_reviewed("no_such_backup_20250101", "x")  # no result waited for: fails at COMMIT
        made = database.create("t", "after the failures", "manual")
        assert database.drop(made) >= 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0


@pytest.fixture
def audited_timeouts(installed: psycopg.Connection) -> psycopg.Connection:
    """Every audit row's statement_timeout, as the writing transaction had it."""
    installed.execute("CREATE TABLE public.audit_timeouts (action text, statement_timeout text)")
    installed.execute(
        "CREATE FUNCTION public.note_timeout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO public.audit_timeouts VALUES (NEW.action, current_setting('statement_timeout')); "
        "RETURN NEW; END $$"
    )
    installed.execute(
        "CREATE TRIGGER note_timeout BEFORE INSERT ON backup.backup_audit "
        "FOR EACH ROW EXECUTE FUNCTION public.note_timeout()"
    )
    return installed


def test_every_write_runs_under_the_write_statement_timeout(
    audited_timeouts: psycopg.Connection, dsn: str, tmp_path: Path
) -> None:
    conn = audited_timeouts
    make_table(conn, "t", rows=5)
    conn.execute("CREATE TABLE backup.t_backup_20250101 AS TABLE public.t")
    settings = Settings(dsn=dsn, statement_timeout="4321s", read_timeout="1234s")
    with Database(settings) as database:
        made = database.create("t", "r", "daily")
        old = database.create("t", "old", "daily")
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' "
            "WHERE backup_table_name = %s::text",
            (old,),
        )
        database.adopt("t_backup_20250101", None, "manual", None, "public")
        database.mark_reviewed(made, "checked")
        schedule = database.add_schedule("t", "weekly", "0 4 * * *", None, "public")
        database.update_schedule(schedule, enabled=False)
        database.run_schedule(schedule)
        database.remove_schedule(schedule)
        database.apply_prune([old])
        archived = database.archive_many(["t_backup_20250101"], str(tmp_path))
        assert archived.complete, archived.items
        database.verify("t_backup_20250101")
        database.restore(made, "t_again", "public")
        database.forget_many(["t_backup_20250101"])
        database.drop(made)
    written = conn.execute("SELECT action, statement_timeout FROM public.audit_timeouts ORDER BY 1").fetchall()
    actions = {a for a, _ in written}
    assert {
        "create",
        "adopt",
        "review",
        "schedule-add",
        "schedule-pause",
        "schedule-remove",
        "drop",
        "archive",
    } <= actions
    assert {"verify", "restore", "forget"} <= actions
    assert [(a, t) for a, t in written if t != "4321s"] == []
