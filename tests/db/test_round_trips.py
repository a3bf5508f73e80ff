"""Round trips that do not grow with the inventory (#25): at 50 ms a round trip, `check` on 200
backups waited ~12 s because it counted each backup's rows in a statement of its own."""

from __future__ import annotations

import psycopg

from tests.conftest import make_table
from tests.roundtrips import round_trips
from tui.db import Database, Settings
from tui.db.backups import create_backup
from tui.model import Category, SchemaState


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
    assert flags_trips <= 7 < check_trips, statements
