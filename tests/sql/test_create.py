from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import sql

from tests.conftest import make_table, scalar
from tui.db.backups import create_backup, drop_backup

STAMP = r"_backup_\d{4}_\d{2}_\d{2}_\d{6}"

ODD_NAMES = [
    'it\'s "quoted"',
    "with spaces",
    "ünïcødé_täble",
    "UPPER_Case",
    "x; DROP TABLE y; --",
    "a" * 63,
    "é" * 31,  # 62 bytes
]


def test_create_copies_rows_and_records_metadata_and_audit(installed: psycopg.Connection) -> None:
    make_table(installed, "experts", rows=123)
    name = create_backup(installed, "experts", "before migration", "pre-migration")
    assert re.fullmatch("experts" + STAMP, name)
    copied = scalar(installed, sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name)).as_string())
    assert copied == 123
    meta = installed.execute(
        "SELECT original_table_name, row_count, backup_reason, backup_kind, source_schema, created_by = session_user "
        "FROM backup.backup_metadata WHERE backup_table_name = %s",
        (name,),
    ).fetchone()
    assert meta == ("experts", 123, "before migration", "pre-migration", "public", True)
    audit = installed.execute(
        "SELECT action, source_table, row_count, size_bytes > 0, actor = session_user FROM backup.backup_audit "
        "WHERE backup_table_name = %s",
        (name,),
    ).fetchall()
    assert audit == [("create", "experts", 123, True, True)]


def test_create_analyzes_the_copy(installed: psycopg.Connection) -> None:
    make_table(installed, "t", rows=500)
    name = create_backup(installed, "t", "r")
    reltuples = scalar(
        installed,
        "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
        (sql.Identifier("backup", name).as_string(installed),),
    )
    assert reltuples == 500


def test_create_from_another_schema(installed: psycopg.Connection) -> None:
    installed.execute('CREATE SCHEMA "Sales"')
    make_table(installed, "leads", rows=3, schema="Sales")
    name = create_backup(installed, "leads", "r", "daily", "Sales")
    assert (
        scalar(installed, "SELECT source_schema FROM backup.backup_metadata WHERE backup_table_name = %s", (name,))
        == "Sales"
    )


@pytest.mark.parametrize("table", ODD_NAMES)
def test_create_and_drop_odd_identifiers(installed: psycopg.Connection, table: str) -> None:
    make_table(installed, table, rows=4)
    name = create_backup(installed, table, "odd")
    assert len(name.encode()) <= 63
    assert re.search(STAMP + "$", name), name
    assert scalar(installed, "SELECT row_count FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)) == 4
    assert drop_backup(installed, name) > 0
    # The live table is untouched, and nothing but the backup went away.
    assert scalar(installed, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)).as_string()) == 4


def test_long_names_are_shortened_with_a_hash_keeping_the_stamp(installed: psycopg.Connection) -> None:
    long_a = "a" * 60 + "xyz"
    long_b = "a" * 60 + "xzy"
    make_table(installed, long_a)
    make_table(installed, long_b)
    name_a = create_backup(installed, long_a, "r")
    name_b = create_backup(installed, long_b, "r")
    assert len(name_a) == 63 and len(name_b) == 63
    assert name_a != name_b  # the hash tells two long names apart


def test_two_hundred_backups_of_one_table_in_one_transaction(installed: psycopg.Connection) -> None:
    make_table(installed, "hot", rows=2)
    with installed.transaction():
        names = [scalar(installed, "SELECT backup.create_table_backup('hot', 'loop', 'daily')") for _ in range(200)]
    assert len(set(names)) == 200
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE original_table_name = 'hot'") == 200


def test_legacy_two_argument_signature_still_works(installed: psycopg.Connection) -> None:
    make_table(installed, "t")
    name = scalar(installed, "SELECT backup.create_table_backup('t')")
    assert (
        scalar(installed, "SELECT backup_kind FROM backup.backup_metadata WHERE backup_table_name = %s", (name,))
        == "manual"
    )


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("", ("nope", "r", "manual", "public"), "table public.nope does not exist"),
        ("CREATE TABLE t (x int)", ("t", "r", "hourly", "public"), 'unknown backup kind "hourly"'),
        ("CREATE VIEW v AS SELECT 1 AS x", ("v", "r", "manual", "public"), "public.v is a view, not a table"),
        ("CREATE TABLE t (x int)", ("t", "r", "manual", "other"), "table other.t does not exist"),
        ("", ("backup_metadata", "r", "manual", "backup"), "tables in schema backup are backups themselves"),
        ("", ("", "r", "manual", "public"), "a table name is required"),
    ],
)
def test_create_refusals_leave_nothing_behind(
    installed: psycopg.Connection, setup: str, args: tuple[str, ...], message: str
) -> None:
    if setup:
        installed.execute(setup)
    tables_before = scalar(installed, "SELECT count(*) FROM pg_class WHERE relnamespace = 'backup'::regnamespace")
    with pytest.raises(psycopg.Error) as err:
        create_backup(installed, *args)
    assert message in err.value.diag.message_primary
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit") == 0
    assert (
        scalar(installed, "SELECT count(*) FROM pg_class WHERE relnamespace = 'backup'::regnamespace") == tables_before
    )
