"""Installing and upgrading: from nothing, from the 2025 layout, from a 0.1 install; nothing lost."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_table, scalar
from tests.legacy import build_legacy
from tui import __version__
from tui.db.backups import create_backup
from tui.db.check import exposure
from tui.db.inventory import load_inventory
from tui.db.schema import definitions, install, migrations, schema_state, sql_dir
from tui.model import SchemaState

RELEASE_0_1 = Path(__file__).parent / "release_0_1"  # 0.1's schema files, verbatim: the upgrade's "before"


def test_install_on_empty_database_creates_schema_and_records_the_layout(conn: psycopg.Connection) -> None:
    assert schema_state(conn) is SchemaState.ABSENT
    report = install(conn)
    assert report.before is SchemaState.ABSENT
    assert report.migrations == tuple(m.label for m in migrations())
    assert set(report.definitions) == {d.name for d in definitions()}
    assert schema_state(conn) is SchemaState.CURRENT
    recorded = dict(conn.execute("SELECT name, sha256 FROM backup.schema_definitions").fetchall())
    assert recorded == {d.name: d.sha256 for d in definitions()}
    kinds = {r[0] for r in conn.execute("SELECT backup_kind FROM backup.retention_policy")}
    assert kinds == {"pre-migration", "daily", "weekly", "monthly", "critical", "manual"}


def test_install_on_an_up_to_date_database_changes_nothing(installed: psycopg.Connection) -> None:
    before = installed.execute("SELECT name, sha256, applied_at FROM backup.schema_definitions ORDER BY 1").fetchall()
    versions = installed.execute("SELECT version, applied_at FROM backup.schema_version ORDER BY 1").fetchall()
    report = install(installed)
    assert not report.changed and report.before is SchemaState.CURRENT
    assert installed.execute(
        "SELECT name, sha256, applied_at FROM backup.schema_definitions ORDER BY 1"
    ).fetchall() == (before)
    assert installed.execute("SELECT version, applied_at FROM backup.schema_version ORDER BY 1").fetchall() == versions


def test_every_function_and_view_is_defined_in_one_definition_file() -> None:
    created = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|VIEW)\s+((?:backup|public)\.\w+)")
    defined: dict[str, set[str]] = {}
    for path in sql_dir().rglob("*.sql"):
        for name in created.findall(path.read_text()):
            defined.setdefault(name, set()).add(str(path.relative_to(sql_dir())))
    assert "backup.plan_rows" in defined
    assert {name: files for name, files in defined.items() if len(files) > 1} == {}
    assert not [files for files in defined.values() if not next(iter(files)).startswith("definitions/")]


def test_every_definition_file_applies_twice(installed: psycopg.Connection) -> None:
    make_table(installed, "t")
    name = create_backup(installed, "t", "keep me")
    for definition in definitions():
        with installed.transaction():
            installed.execute(definition.sql)  # type: ignore[arg-type]
    assert [b.backup_table_name for b in load_inventory(installed, SchemaState.CURRENT)] == [name]


def test_a_changed_definition_is_reapplied_with_what_requires_it(installed: psycopg.Connection) -> None:
    """A retention rule changed in sql/definitions/plan.sql (simulated: the recorded hash differs)
    re-applies plan and every file that requires it, and nothing else."""
    installed.execute("UPDATE backup.schema_definitions SET sha256 = 'older' WHERE name = 'plan'")
    assert schema_state(installed) is SchemaState.OUTDATED
    report = install(installed)
    assert report.migrations == ()
    requires_plan = {"plan"}
    for definition in definitions():
        if requires_plan & set(definition.requires):
            requires_plan.add(definition.name)
    assert set(report.definitions) == requires_plan
    assert {"inventory", "prune", "wrappers", "privileges"} <= requires_plan and "create" not in requires_plan
    assert schema_state(installed) is SchemaState.CURRENT


def test_policy_edits_survive_an_upgrade(installed: psycopg.Connection) -> None:
    installed.execute("UPDATE backup.retention_policy SET keep_for = '10 days' WHERE backup_kind = 'daily'")
    installed.execute("UPDATE backup.schema_definitions SET sha256 = 'older'")
    install(installed)
    assert str(scalar(installed, "SELECT keep_for FROM backup.retention_policy WHERE backup_kind='daily'")) == (
        "10 days, 0:00:00"
    )


def test_grants_a_dba_gave_survive_a_definition_that_drops_and_recreates(installed: psycopg.Connection) -> None:
    installed.execute("DROP ROLE IF EXISTS bt_auditor")
    installed.execute("CREATE ROLE bt_auditor NOLOGIN")
    try:
        installed.execute("GRANT USAGE ON SCHEMA backup TO bt_auditor")
        installed.execute("GRANT SELECT ON backup.backup_inventory TO bt_auditor")
        installed.execute("GRANT EXECUTE ON FUNCTION backup.inventory_rows(text[]) TO bt_auditor")
        installed.execute("UPDATE backup.schema_definitions SET sha256 = 'older' WHERE name = 'inventory'")
        assert "inventory" in install(installed).definitions  # drops and re-creates the view and function
        assert scalar(installed, "SELECT has_table_privilege('bt_auditor', 'backup.backup_inventory', 'SELECT')")
        assert scalar(
            installed, "SELECT has_function_privilege('bt_auditor', 'backup.inventory_rows(text[])', 'EXECUTE')"
        )
    finally:
        installed.execute("DROP OWNED BY bt_auditor")
        installed.execute("DROP ROLE bt_auditor")


def test_a_schema_from_a_newer_backup_tui_is_never_downgraded(installed: psycopg.Connection) -> None:
    installed.execute("UPDATE backup.schema_definitions SET tool = '99.0.0', sha256 = 'newer' WHERE name = 'plan'")
    assert schema_state(installed) is SchemaState.NEWER
    with pytest.raises(RuntimeError, match="newer backup-tui"):
        install(installed)
    assert scalar(installed, "SELECT sha256 FROM backup.schema_definitions WHERE name = 'plan'") == "newer"


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


# -- from a 0.1 install ----------------------------------------------------------------------


def _install_release_0_1(conn: psycopg.Connection) -> None:
    """What `backup-tui install` of 0.1 did: its seven files in one transaction, recorded."""
    with conn.transaction():
        for path in sorted(RELEASE_0_1.glob("*.sql")):
            conn.execute(path.read_text())  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO backup.schema_version (version, name) VALUES (%s, %s)",
                (int(path.name[:3]), path.stem[4:]),
            )


def test_upgrade_from_a_0_1_install_keeps_every_row_and_records_the_new_layout(conn: psycopg.Connection) -> None:
    _install_release_0_1(conn)
    assert schema_state(conn) is SchemaState.OUTDATED
    make_table(conn, "orders", rows=25)
    names = [
        conn.execute("SELECT backup.create_table_backup('orders', %s, 'daily')", (r,)).fetchone()[0] for r in "abc"
    ]
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s",
        (names[0],),
    )
    conn.execute("SELECT backup.drop_table_backup(%s)", (names[1],))
    conn.execute("SELECT backup.mark_reviewed(%s, 'checked by hand')", (names[2],))
    # an archived backup, as 0.1 left it: the table gone, the row with its location
    conn.execute(f'DROP TABLE backup."{names[0]}"')
    conn.execute(
        "UPDATE backup.backup_metadata SET archived_at = now(), archive_location = '/cold/x', "
        'archive_manifest = \'{"sha256": "abc"}\' WHERE backup_table_name = %s',
        (names[0],),
    )
    conn.execute("UPDATE backup.retention_policy SET keep_for = '9 days' WHERE backup_kind = 'daily'")
    # 0.1's own columns (migrations add others, and fill some: an archive counts as verified when made).
    tables = {
        "backup_metadata": "id, original_table_name, backup_table_name, backup_date, row_count, backup_reason, "
        "created_at, created_by, source_schema, backup_kind, reviewed_at, review_note, archived_at, "
        "archive_location, archive_manifest",
        "backup_audit": "id, at, actor, action, backup_table_name, source_schema, source_table, row_count, "
        "size_bytes, detail",
        "retention_policy": "*",
    }
    before = {t: conn.execute(f"SELECT {c} FROM backup.{t} ORDER BY 1").fetchall() for t, c in tables.items()}

    report = install(conn)

    assert report.before is SchemaState.OUTDATED
    # 001 ran under 0.1; 002-007 are superseded by the definitions
    assert report.migrations == tuple(m.label for m in migrations() if m.version > 7)
    assert set(report.definitions) == {d.name for d in definitions()}
    assert schema_state(conn) is SchemaState.CURRENT
    for table, columns in tables.items():
        assert conn.execute(f"SELECT {columns} FROM backup.{table} ORDER BY 1").fetchall() == before[table], table
    assert scalar(conn, "SELECT tool FROM backup.schema_definitions WHERE name = 'plan'") == __version__
    # 0.1's functions that no definition keeps are gone; the rest answer with 0.2's words.
    assert scalar(conn, "SELECT to_regprocedure('backup.days_words(double precision)')") is None
    status = {b.backup_table_name: b.status for b in load_inventory(conn, SchemaState.CURRENT)}
    assert status[names[0]] == "archived" and status[names[2]] == "keep"


def test_upgrade_from_0_1_keeps_what_a_dba_granted_on_the_functions(conn: psycopg.Connection) -> None:
    _install_release_0_1(conn)
    conn.execute("DROP ROLE IF EXISTS bt_operator_01")
    conn.execute("CREATE ROLE bt_operator_01 NOLOGIN")
    try:
        conn.execute("GRANT EXECUTE ON FUNCTION backup.drop_table_backup(text) TO bt_operator_01")
        install(conn)
        assert scalar(
            conn, "SELECT has_function_privilege('bt_operator_01', 'backup.drop_table_backup(text)', 'EXECUTE')"
        )
    finally:
        conn.execute("DROP OWNED BY bt_operator_01")
        conn.execute("DROP ROLE bt_operator_01")


# -- from the 2025 layout --------------------------------------------------------------------


def test_legacy_install_is_browsable_before_upgrade(conn: psycopg.Connection) -> None:
    names = build_legacy(conn)
    assert schema_state(conn) is SchemaState.LEGACY
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
    report = install(conn)
    assert report.before is SchemaState.LEGACY and schema_state(conn) is SchemaState.CURRENT
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
    install(conn)
    rows = conn.execute(
        "SELECT pg_get_function_identity_arguments(p.oid), p.prosecdef, "
        "'search_path=pg_catalog, pg_temp' = ANY(p.proconfig) FROM pg_proc p "
        "WHERE p.oid IN (SELECT oid FROM pg_proc WHERE proname = 'create_table_backup' "
        "AND pronamespace = 'backup'::regnamespace) ORDER BY 1"
    ).fetchall()
    # The 2025 parameter names stay (supabase-js rpc() sends them); the 2025 definer without a fixed
    # search_path is gone: the copy is made by the owner's definer with one (0.3's role model).
    assert rows == [
        ("p_table_name text, p_reason text", False, True),
        ("table_name text, reason text, kind text, source_schema text", True, True),
    ]
    name = scalar(conn, "SELECT backup.create_table_backup('users', 'Pre-migration backup')")
    assert (
        scalar(conn, "SELECT backup_kind FROM backup.backup_metadata WHERE backup_table_name = %s", (name,))
        == "pre-migration"
    )


def test_legacy_upgrade_does_not_widen_grants(conn: psycopg.Connection) -> None:
    build_legacy(conn)
    install(conn)
    assert (
        scalar(
            conn, "SELECT has_function_privilege('anon', 'backup.create_table_backup(text,text,text,text)', 'EXECUTE')"
        )
        is False
    )
    assert scalar(conn, "SELECT has_table_privilege('anon', 'public.backup_inventory_view', 'SELECT')") is False
    assert scalar(conn, "SELECT has_function_privilege('anon', 'public.get_backup_tables()', 'EXECUTE')") is False
    assert scalar(conn, "SELECT has_table_privilege('service_role', 'public.backup_inventory_view', 'SELECT')") is True
    assert any(f.detail == "anon has USAGE on schema backup" for f in exposure(conn))


def test_legacy_duplicates_stop_the_upgrade_and_change_nothing(conn: psycopg.Connection) -> None:
    names = build_legacy(conn)
    conn.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, row_count) "
        "VALUES ('users', %s, 50)",
        (names["registered"],),
    )
    with pytest.raises(psycopg.Error) as err:
        install(conn)
    assert names["registered"] in str(err.value)
    assert "2 rows" in str(err.value)
    assert schema_state(conn) is SchemaState.LEGACY
    assert scalar(conn, "SELECT to_regclass('backup.retention_policy')") is None
    assert (
        scalar(
            conn,
            "SELECT atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = 'backup.backup_metadata'::regclass AND attname = 'row_count'",
        )
        == "integer"
    )
