from __future__ import annotations

import psycopg
import pytest

from tests.conftest import scalar
from tests.legacy import build_legacy
from tui import db
from tui.db.inventory import load_inventory
from tui.db.schema import latest_version
from tui.model import SchemaState


def test_install_on_empty_database_creates_schema_and_records_version(conn: psycopg.Connection) -> None:
    assert db.schema_state(conn) is SchemaState.ABSENT
    applied = db.install(conn)
    assert applied[0] == "001_tables"
    assert db.schema_state(conn) is SchemaState.CURRENT
    assert scalar(conn, "SELECT max(version) FROM backup.schema_version") == latest_version()
    kinds = {r[0] for r in conn.execute("SELECT backup_kind FROM backup.retention_policy")}
    assert kinds == {"pre-migration", "daily", "weekly", "monthly", "critical", "manual"}


def test_install_twice_is_a_no_op(installed: psycopg.Connection) -> None:
    before = installed.execute("SELECT version, applied_at FROM backup.schema_version ORDER BY 1").fetchall()
    assert db.install(installed) == []
    after = installed.execute("SELECT version, applied_at FROM backup.schema_version ORDER BY 1").fetchall()
    assert before == after


def test_every_schema_file_is_idempotent_on_its_own(installed: psycopg.Connection) -> None:
    from tui.db.schema import migrations

    installed.execute("CREATE TABLE t AS SELECT 1 AS x")
    name = db.create_backup(installed, db.Settings(), "t", "keep me")
    for migration in migrations():
        with installed.transaction():
            installed.execute(migration.sql)  # type: ignore[arg-type]
    assert [b.backup_table_name for b in load_inventory(installed, SchemaState.CURRENT)] == [name]


def test_policy_edits_survive_reinstall(installed: psycopg.Connection) -> None:
    installed.execute("UPDATE backup.retention_policy SET keep_for = '10 days' WHERE backup_kind = 'daily'")
    installed.execute("DELETE FROM backup.schema_version WHERE version > 1")
    db.install(installed)
    assert str(scalar(installed, "SELECT keep_for FROM backup.retention_policy WHERE backup_kind='daily'")) == (
        "10 days, 0:00:00"
    )


def test_functions_are_not_executable_by_public(installed: psycopg.Connection) -> None:
    rows = installed.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace = 'backup'::regnamespace
           AND has_function_privilege('public', p.oid, 'EXECUTE')
        """
    ).fetchall()
    # has_function_privilege('public', ...) checks the PUBLIC pseudo-role's grants
    assert rows == []


def test_functions_are_invoker_or_definer_with_fixed_search_path(installed: psycopg.Connection) -> None:
    rows = installed.execute(
        """
        SELECT p.proname FROM pg_proc p
         WHERE p.pronamespace = 'backup'::regnamespace
           AND p.prosecdef
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
        """
    ).fetchall()
    assert rows == []


def test_legacy_install_is_browsable_before_upgrade(conn: psycopg.Connection) -> None:
    names = build_legacy(conn)
    assert db.schema_state(conn) is SchemaState.LEGACY
    # The legacy view itself breaks on the missing table; our read does not.
    with pytest.raises(psycopg.Error):
        conn.execute("SELECT * FROM backup.backup_inventory").fetchall()
    status = {b.backup_table_name: b.status for b in load_inventory(conn, SchemaState.LEGACY)}
    assert status[names["registered"]] == "keep"
    assert status[names["mixed_case"]] == "keep"
    assert status[names["missing"]] == "missing"
    assert status[names["unregistered_compact"]] == "unregistered"
    assert status[names["unregistered_other"]] == "unregistered"


def test_legacy_upgrade_keeps_every_row_and_id(conn: psycopg.Connection) -> None:
    names = build_legacy(conn)
    before = conn.execute(
        "SELECT id, original_table_name, backup_table_name, backup_date, row_count, backup_reason, "
        "created_at, created_by FROM backup.backup_metadata ORDER BY id"
    ).fetchall()
    db.install(conn)
    after = conn.execute(
        "SELECT id, original_table_name, backup_table_name, backup_date, row_count, backup_reason, "
        "created_at, created_by FROM backup.backup_metadata ORDER BY id"
    ).fetchall()
    assert after == before
    assert (
        scalar(
            conn,
            "SELECT atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'row_count'",
        )
        == "bigint"
    )
    kinds = dict(conn.execute("SELECT backup_table_name, backup_kind FROM backup.backup_metadata").fetchall())
    assert kinds[names["registered"]] == "pre-migration"
    assert kinds[names["mixed_case"]] == "manual"
    inventory = {b.backup_table_name: b for b in load_inventory(conn, SchemaState.CURRENT)}
    assert inventory[names["missing"]].status == "missing"
    assert inventory[names["mixed_case"]].size_bytes and inventory[names["mixed_case"]].size_bytes > 0
    assert inventory[names["unregistered_compact"]].status == "unregistered"
    assert inventory[names["unregistered_compact"]].original_table_name == "users"
    assert inventory[names["unregistered_compact"]].backup_date.isoformat() == "2025-04-02T00:00:00+00:00"
    assert inventory[names["unregistered_bare"]].original_table_name == "users"
    assert inventory[names["unregistered_other"]].original_table_name is None


def test_legacy_upgrade_replaces_definer_function_keeping_signature(conn: psycopg.Connection) -> None:
    build_legacy(conn)
    db.install(conn)
    rows = conn.execute(
        "SELECT pg_get_function_identity_arguments(p.oid), p.prosecdef FROM pg_proc p "
        "WHERE p.oid IN (SELECT oid FROM pg_proc WHERE proname = 'create_table_backup' "
        "AND pronamespace = 'backup'::regnamespace) ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("table_name text, reason text", False),
        ("table_name text, reason text, kind text, source_schema text", False),
    ]
    name = scalar(conn, "SELECT backup.create_table_backup('users', 'Pre-migration backup')")
    assert (
        scalar(conn, "SELECT backup_kind FROM backup.backup_metadata WHERE backup_table_name = %s", (name,))
        == "pre-migration"
    )


def test_legacy_upgrade_does_not_widen_grants(conn: psycopg.Connection) -> None:
    build_legacy(conn)
    db.install(conn)
    assert (
        scalar(
            conn, "SELECT has_function_privilege('anon', 'backup.create_table_backup(text,text,text,text)', 'EXECUTE')"
        )
        is False
    )
    assert scalar(conn, "SELECT has_table_privilege('anon', 'public.backup_inventory_view', 'SELECT')") is False
    assert scalar(conn, "SELECT has_function_privilege('anon', 'public.get_backup_tables()', 'EXECUTE')") is False
    assert scalar(conn, "SELECT has_table_privilege('service_role', 'public.backup_inventory_view', 'SELECT')") is True
    warnings = db.exposure_warnings(conn)
    assert any(w.startswith("anon has USAGE on schema backup") for w in warnings)


def test_legacy_duplicates_stop_the_upgrade_and_change_nothing(conn: psycopg.Connection) -> None:
    names = build_legacy(conn)
    conn.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, row_count) "
        "VALUES ('users', %s, 50)",
        (names["registered"],),
    )
    with pytest.raises(psycopg.Error) as err:
        db.install(conn)
    assert names["registered"] in str(err.value)
    assert "2 rows" in str(err.value)
    assert db.schema_state(conn) is SchemaState.LEGACY
    assert scalar(conn, "SELECT to_regclass('backup.retention_policy')") is None
    assert (
        scalar(
            conn,
            "SELECT atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'row_count'",
        )
        == "integer"
    )
