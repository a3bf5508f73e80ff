"""Round trips that do not grow with the inventory (#25): at 50 ms a round trip, `check` on 200
backups waited ~12 s because it counted each backup's rows in a statement of its own."""

from __future__ import annotations

import psycopg

from tests.conftest import make_table, scalar
from tests.roundtrips import round_trips
from tui.db import Database, Settings
from tui.db.backups import create_backup
from tui.model import Category, ListQuery, SchemaState


def _backups(conn: psycopg.Connection, count: int, start: int = 0) -> list[str]:
    names = []
    for i in range(start, start + count):
        make_table(conn, f"t{i}", rows=i + 1)
        names.append(create_backup(conn, f"t{i}", "round trips", "manual"))
    return names


def test_check_costs_the_same_round_trips_for_3_and_30_backups(installed: psycopg.Connection, dsn: str) -> None:
    _backups(installed, 3)
    with Database(Settings(dsn=dsn)) as database:
        few, _ = round_trips(database, lambda: database.check(SchemaState.CURRENT, fast=False))
    names = _backups(installed, 27, start=3)
    # A drifted backup and a hostile name are still counted, exactly, in the same statement.
    installed.execute('CREATE TABLE public."o\'dd ""x""" (id int)')
    names.append(create_backup(installed, 'o\'dd "x"', "quotes", "manual"))
    installed.execute(
        "UPDATE backup.backup_metadata SET row_count = row_count + 1 WHERE backup_table_name = %s", (names[5],)
    )
    with Database(Settings(dsn=dsn)) as database:
        many, statements = round_trips(database, lambda: database.check(SchemaState.CURRENT, fast=False))
        drift = [f for f in database.check(SchemaState.CURRENT, fast=False) if f.category is Category.DRIFT]
    assert many == few, statements
    # The categories travel together; the exact counts, which need their answers, once more.
    assert many <= 3, statements
    assert [(f.subject, f.detail) for f in drift] == [(names[5], "recorded 10 rows, actual 9")]


def test_the_inventory_flags_are_the_checks_flags_in_a_few_round_trips(installed: psycopg.Connection, dsn: str) -> None:
    names = _backups(installed, 4)
    installed.execute(f"INSERT INTO backup.\"{names[0]}\" SELECT g, 'x', NULL FROM generate_series(100, 400) g")
    installed.execute(f'ANALYZE backup."{names[0]}"')  # the estimate now says ~302 rows, recorded 1
    installed.execute(f'CREATE VIEW public.leans_on AS SELECT * FROM backup."{names[1]}"')
    with Database(Settings(dsn=dsn)) as database:
        shown = (Category.DRIFT, Category.DEPENDANTS)
        expected = [f for f in database.check(SchemaState.CURRENT, fast=True) if f.category in shown]
        flags_trips, statements = round_trips(database, lambda: database.flags(SchemaState.CURRENT))
        check_trips, _ = round_trips(database, lambda: database.check(SchemaState.CURRENT, fast=True))
        assert database.flags(SchemaState.CURRENT) == expected
    assert {f.subject for f in expected} == {names[0], names[1]}
    # In pipeline mode: the statements with BEGIN and the settings, then the COMMIT with nothing
    # left to wait for; a fast check waits once more only where pg_cron's failures are asked.
    assert flags_trips <= 2, statements
    assert check_trips <= 3, statements


def test_list_and_its_json_are_three_round_trips_whatever_the_inventory(
    installed: psycopg.Connection, dsn: str
) -> None:
    """The issue's budget for every read command: at most 3 round trips after connecting (the
    schema's state is two of them, the rows come with the COMMIT)."""
    counts = []
    for more in (2, 20):
        _backups(installed, more, start=len(counts) * 100)
        with Database(Settings(dsn=dsn)) as database:
            rows, statements = round_trips(database, lambda: database.listed(ListQuery()))
            text, _ = round_trips(database, lambda: database.inventory_json(ListQuery()))
            state, listed = database.listed(ListQuery())
        assert rows <= 3 and text <= 3, statements
        assert state is SchemaState.CURRENT and len(listed) == len(counts) * 2 + more
        counts.append(rows)
    assert counts[0] == counts[1]


def test_every_read_command_is_at_most_three_round_trips_with_its_state(
    installed: psycopg.Connection, dsn: str
) -> None:
    """prune's plan, schedule list and check read the schema's state in their own transaction,
    betting it is current; the bet is checked, and lost only at a price when it was wrong."""
    _backups(installed, 5)
    with Database(Settings(dsn=dsn)) as database:
        reads = {
            "prune": database.plan_if_current,
            "schedule list": database.schedule_overview,
            "check --fast": lambda: database.check_if_current(fast=True),
            "check": lambda: database.check_if_current(fast=False),
        }
        for what, read in reads.items():
            trips, statements = round_trips(database, read)
            assert trips <= 3, (what, statements)
            state, answer = read()
            assert state is SchemaState.CURRENT and answer is not None, what
        state, plan = database.plan_if_current()
        assert plan is not None and len(plan) == 5
        assert database.check_if_current(fast=False)[1] == database.check(SchemaState.CURRENT, fast=False)


def test_a_lost_bet_on_the_schema_answers_with_its_state_and_nothing_else(
    installed: psycopg.Connection, dsn: str, admin_dsn: str
) -> None:
    _backups(installed, 2)
    installed.execute("UPDATE backup.schema_definitions SET sha256 = 'changed' WHERE name = 'plan'")
    with Database(Settings(dsn=dsn)) as database:
        assert database.plan_if_current() == (SchemaState.OUTDATED, None)
        assert database.schedule_overview() == (SchemaState.OUTDATED, None)
        assert database.check_if_current() == (SchemaState.OUTDATED, None)
    installed.execute("DROP SCHEMA backup CASCADE")  # absent: the bet's statements fail, the state answers
    with Database(Settings(dsn=dsn)) as database:
        assert database.plan_if_current() == (SchemaState.ABSENT, None)
        assert database.schedule_overview() == (SchemaState.ABSENT, None)
        assert database.check_if_current() == (SchemaState.ABSENT, None)
        assert database.schema_state() is SchemaState.ABSENT  # and the session is usable


def test_the_tuis_first_look_brings_a_small_inventorys_rows_in_two_round_trips(
    installed: psycopg.Connection, dsn: str
) -> None:
    """The server, the schema's state, the count and (few enough, current) every row with exact
    sizes: the issue's budget for the TUI's first rows is connect + 2."""
    _backups(installed, 4)
    installed.execute("ANALYZE backup.backup_metadata")
    with Database(Settings(dsn=dsn)) as database:
        trips, statements = round_trips(database, lambda: database.first_look(rows_below=500))
        info, state, count, rows = database.first_look(rows_below=500)
        assert trips <= 2, statements
        assert state is SchemaState.CURRENT and count == 4 and info.dbname == installed.info.dbname
        by_name = {r.backup_table_name: r for r in database.inventory(state)}
        assert rows is not None and {r.backup_table_name: r for r in rows} == by_name
        assert all(r.size_exact for r in rows)
        assert database.first_look(rows_below=4)[3] is None  # not fewer: the rows are not read
    installed.execute("UPDATE backup.schema_definitions SET sha256 = 'changed' WHERE name = 'plan'")
    with Database(Settings(dsn=dsn)) as database:  # another version's schema: the bet is not kept
        assert database.first_look(rows_below=500)[1:] == (SchemaState.OUTDATED, 4, None)


def test_a_never_analyzed_inventory_counts_as_unknown_not_as_small(installed: psycopg.Connection, dsn: str) -> None:
    """reltuples is -1 before the first VACUUM or ANALYZE: read as 0 backups, a large inventory
    would be loaded whole with exact sizes (the slow path the progressive load avoids)."""
    installed.execute("DROP TABLE backup.backup_metadata CASCADE")  # a new table: never analyzed
    installed.execute("CREATE TABLE backup.backup_metadata (backup_table_name text)")
    assert scalar(installed, "SELECT reltuples FROM pg_class WHERE oid = 'backup.backup_metadata'::regclass") == -1
    with Database(Settings(dsn=dsn)) as database:
        _, _, known, rows = database.first_look(rows_below=500)
    assert known is None and rows is None
