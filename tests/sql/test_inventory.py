from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.conftest import make_table, scalar
from tui.db.backups import create_backup
from tui.db.inventory import load_inventory
from tui.model import SchemaState


def _backdate(conn: psycopg.Connection, name: str, days: float) -> None:
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - %s WHERE backup_table_name = %s",
        (timedelta(days=days), name),
    )


def _status(conn: psycopg.Connection) -> dict[str, str]:
    return {b.backup_table_name: b.status for b in load_inventory(conn, SchemaState.CURRENT)}


@pytest.mark.parametrize(
    ("kind", "days", "status"),
    [
        ("daily", 6.9, "keep"),
        ("daily", 7.1, "expired"),
        ("weekly", 27, "keep"),
        ("weekly", 29, "expired"),
        ("monthly", 364, "keep"),
        ("monthly", 367, "archive"),
        ("manual", 80, "keep"),
        ("manual", 95, "review"),
        ("pre-migration", 170, "keep"),
        ("pre-migration", 190, "review"),
        ("critical", 300, "keep"),
        ("critical", 400, "review"),
    ],
)
def test_status_follows_the_policy(installed: psycopg.Connection, kind: str, days: float, status: str) -> None:
    make_table(installed, "t")
    name = create_backup(installed, "t", "r", kind)
    _backdate(installed, name, days)
    create_backup(installed, "t", "a newer copy, so the floor does not apply")
    assert _status(installed)[name] == status


def test_status_follows_an_edited_policy(installed: psycopg.Connection) -> None:
    make_table(installed, "t")
    name = create_backup(installed, "t", "r", "daily")
    _backdate(installed, name, 10)
    create_backup(installed, "t", "newer")
    assert _status(installed)[name] == "expired"
    installed.execute("UPDATE backup.retention_policy SET keep_for = '30 days' WHERE backup_kind = 'daily'")
    assert _status(installed)[name] == "keep"


def test_inventory_never_errors_on_missing_unregistered_and_odd_names(installed: psycopg.Connection) -> None:
    make_table(installed, "Mixed Case")
    kept = create_backup(installed, "Mixed Case", "r")
    gone = create_backup(installed, "Mixed Case", "r")
    installed.execute(f'DROP TABLE backup."{gone}"')
    installed.execute('CREATE TABLE backup."Stray_backup_2025_02_30" AS SELECT 1 AS x')  # impossible date
    installed.execute('CREATE TABLE backup."x; DROP TABLE y; --" AS SELECT 1 AS x')
    rows = {b.backup_table_name: b for b in load_inventory(installed, SchemaState.CURRENT)}
    assert rows[kept].status == "keep" and rows[kept].size_bytes > 0
    assert rows[gone].status == "missing" and rows[gone].size_bytes is None
    assert rows["Stray_backup_2025_02_30"].status == "unregistered"
    assert rows["Stray_backup_2025_02_30"].original_table_name == "Stray"
    assert rows["Stray_backup_2025_02_30"].backup_date is None
    assert rows["x; DROP TABLE y; --"].status == "unregistered"
    assert set(rows) == {kept, gone, "Stray_backup_2025_02_30", "x; DROP TABLE y; --"}


def test_inventory_columns_keep_the_legacy_ones(installed: psycopg.Connection) -> None:
    cols = [
        r[0]
        for r in installed.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'backup.backup_inventory'::regclass AND attnum > 0 "
            "ORDER BY attnum"
        )
    ]
    for legacy in [
        "id",
        "original_table_name",
        "backup_table_name",
        "backup_date",
        "row_count",
        "backup_reason",
        "created_at",
        "created_by",
        "backup_size",
    ]:
        assert legacy in cols
    assert {"source_schema", "backup_kind", "size_bytes", "expires_at", "status"} <= set(cols)


def test_parse_backup_name_patterns(installed: psycopg.Connection) -> None:
    cases = {
        "users_backup_2025_03_01": ("users", datetime(2025, 3, 1, tzinfo=timezone.utc)),
        "users_backup_20250301": ("users", datetime(2025, 3, 1, tzinfo=timezone.utc)),
        "my_users_backup_2025_03_01_134501": ("my_users", datetime(2025, 3, 1, 13, 45, 1, tzinfo=timezone.utc)),
        "t_backup_2025_03_01_134501_7": ("t", datetime(2025, 3, 1, 13, 45, 1, tzinfo=timezone.utc)),
        "users_backup": ("users", None),
        "random": (None, None),
    }
    for name, expected in cases.items():
        row = installed.execute("SELECT * FROM backup.parse_backup_name(%s)", (name,)).fetchone()
        assert row == expected, name


def test_impossible_dates_in_names_read_as_no_date_exactly_as_postgresql_judges_them(
    installed: psycopg.Connection,
) -> None:
    """A name's date is PostgreSQL's own verdict (asked here in a savepoint) for every edge of
    every field: an impossible one is no date, never an error; nor is one past 9999 (a roll-over of
    9999-12-31 24:00:00), which no client could read."""
    stamps = [
        (y, mo, d, h, mi, sec)
        for y in (0, 1, 2024, 2025, 9999)
        for mo in (0, 1, 2, 4, 12, 13, 99)
        for d in (0, 1, 28, 29, 30, 31, 32)
        for h, mi, sec in [(0, 0, 0), (23, 59, 59), (23, 59, 60), (24, 0, 0), (24, 0, 1), (12, 60, 0), (12, 0, 61)]
    ]
    for y, mo, d, h, mi, sec in stamps:
        name = f"t_backup_{y:04d}_{mo:02d}_{d:02d}_{h:02d}{mi:02d}{sec:02d}"
        try:
            with installed.transaction():
                truth = scalar(
                    installed, "SELECT make_timestamptz(%s, %s, %s, %s, %s, %s, 'UTC')::text", (y, mo, d, h, mi, sec)
                )
        except psycopg.errors.DatetimeFieldOverflow:
            truth = None
        if truth is not None and truth.startswith("10000-"):
            truth = None
        # As text: 9999-12-31 24:00:00 is year 10000, which Python's datetime cannot hold.
        parsed = installed.execute(
            "SELECT source_table, backup_date::text FROM backup.parse_backup_name(%s)", (name,)
        ).fetchone()
        assert parsed == ("t", truth), name


def test_a_table_named_for_year_ten_thousand_does_not_break_the_inventory(installed: psycopg.Connection) -> None:
    installed.execute("CREATE TABLE backup.t_backup_9999_12_31_240000 (x int)")
    rows = {b.backup_table_name: b for b in load_inventory(installed, SchemaState.CURRENT)}
    assert rows["t_backup_9999_12_31_240000"].status.value == "unregistered"
    assert rows["t_backup_9999_12_31_240000"].backup_date is None


def test_wrappers_return_the_inventory(installed: psycopg.Connection) -> None:
    make_table(installed, "t")
    name = create_backup(installed, "t", "r")
    assert scalar(installed, "SELECT backup_table_name FROM public.backup_inventory_view") == name
    assert scalar(installed, "SELECT backup_table_name FROM public.get_backup_tables()") == name


def test_rows_by_name_are_the_full_inventorys_rows(installed: psycopg.Connection) -> None:
    """inventory_rows(names) reads its entries through backup.named_entries (a plan made for the
    names at hand), the full inventory through the view: the same rows for the same names."""
    make_table(installed, "t")
    kept = create_backup(installed, "t", "r", "daily")
    expired = create_backup(installed, "t", "old", "daily")
    _backdate(installed, expired, 30)
    gone = create_backup(installed, "t", "gone", "weekly")
    installed.execute(f'DROP TABLE backup."{gone}"')  # a metadata row whose table is gone
    installed.execute('CREATE TABLE backup."t_backup_2025_01_02_030405" (x int)')  # unregistered
    names = [kept, expired, gone, "t_backup_2025_01_02_030405", "no_such_backup"]
    with installed.transaction():  # one now(): ages and their words agree
        full = {r[0]: r for r in installed.execute("SELECT backup_table_name, * FROM backup.inventory_rows()")}
        named = installed.execute("SELECT backup_table_name, * FROM backup.inventory_rows(%s)", (names,)).fetchall()
    assert sorted(r[0] for r in named) == sorted(names[:4])
    for row in named:
        assert row == full[row[0]]
    assert {
        r[0] for r in installed.execute("SELECT backup_table_name FROM backup.plan_prune(only_names => %s)", (names,))
    } == set(names[:4])
