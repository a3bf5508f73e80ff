from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import errors as pgerr

from tests.conftest import make_table, scalar
from tui.db import Settings, connect
from tui.db.backups import create_backup, drop_backup
from tui.db.connection import write_transaction


@pytest.fixture
def backup_name(installed: psycopg.Connection) -> str:
    make_table(installed, "users", rows=20)
    return create_backup(installed, "users", "before change")


def test_drop_removes_table_and_metadata_and_audits_bytes(installed: psycopg.Connection, backup_name: str) -> None:
    freed = drop_backup(installed, backup_name)
    assert freed > 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert scalar(installed, "SELECT to_regclass(format('backup.%%I', %s::text))", (backup_name,)) is None
    audit = installed.execute(
        "SELECT action, size_bytes, source_table FROM backup.backup_audit WHERE action LIKE 'drop%'"
    ).fetchall()
    assert audit == [("drop", freed, "users")]


@pytest.mark.parametrize("name", ["backup_metadata", "backup_audit", "retention_policy", "schema_version"])
def test_drop_refuses_the_schemas_own_tables(installed: psycopg.Connection, name: str) -> None:
    with pytest.raises(psycopg.Error, match="part of the backup schema itself"):
        drop_backup(installed, name)
    assert scalar(installed, f"SELECT to_regclass('backup.{name}') IS NOT NULL") is True


def test_drop_refuses_live_tables_and_other_schemas(installed: psycopg.Connection, backup_name: str) -> None:
    for name in ["users", "public.users", '"public"."users"']:
        with pytest.raises(psycopg.Error, match="no backup named"):
            drop_backup(installed, name)
    assert scalar(installed, "SELECT count(*) FROM public.users") == 20


def test_drop_refuses_even_a_forged_metadata_row_for_an_internal_table(installed: psycopg.Connection) -> None:
    installed.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name) VALUES ('x', 'retention_policy')"
    )
    with pytest.raises(psycopg.Error, match="part of the backup schema itself"):
        drop_backup(installed, "retention_policy")


def test_drop_refuses_unregistered_tables(installed: psycopg.Connection) -> None:
    installed.execute("CREATE TABLE backup.stray AS SELECT 1 AS x")
    with pytest.raises(psycopg.Error, match="not a registered backup"):
        drop_backup(installed, "stray")
    assert scalar(installed, "SELECT to_regclass('backup.stray') IS NOT NULL") is True


def test_drop_refuses_backup_with_dependants_and_names_them(installed: psycopg.Connection, backup_name: str) -> None:
    installed.execute(f'CREATE VIEW public.report AS SELECT * FROM backup."{backup_name}"')
    with pytest.raises(pgerr.DependentObjectsStillExist, match="view public.report"):
        drop_backup(installed, backup_name)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1


def test_drop_of_a_missing_backup_removes_the_stale_row(installed: psycopg.Connection, backup_name: str) -> None:
    installed.execute(f'DROP TABLE backup."{backup_name}"')
    assert drop_backup(installed, backup_name) == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert scalar(installed, "SELECT action FROM backup.backup_audit WHERE action LIKE 'drop%%'", ()) == "drop-missing"


def test_second_drop_says_already_dropped(installed: psycopg.Connection, backup_name: str) -> None:
    drop_backup(installed, backup_name)
    with pytest.raises(psycopg.Error, match="already dropped"):
        drop_backup(installed, backup_name)


def test_concurrent_drops_one_wins_the_other_is_told(
    installed: psycopg.Connection, settings: Settings, backup_name: str
) -> None:
    patient = Settings(dsn=settings.dsn, lock_timeout="30s")
    first, second = connect(patient), connect(patient)
    outcome: dict[str, object] = {}
    try:
        with first.transaction():
            first.execute("SELECT backup.drop_table_backup(%s)", (backup_name,))
            blocked = threading.Event()

            def drop_concurrently() -> None:
                blocked.set()
                try:
                    with write_transaction(second, patient):
                        outcome["freed"] = drop_backup(second, backup_name)
                except psycopg.Error as exc:
                    outcome["error"] = str(exc)

            worker = threading.Thread(target=drop_concurrently)
            worker.start()
            blocked.wait()
            # Commit only once the second session is really queued behind our row lock.
            waited = False
            while not waited:
                waited = bool(
                    scalar(
                        installed,
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%%drop_table_backup%%' AND pid <> pg_backend_pid()",
                    )
                )
        worker.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert "already dropped" in str(outcome.get("error"))
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit WHERE action = 'drop'") == 1


def test_drop_gives_up_on_lock_timeout(installed: psycopg.Connection, settings: Settings, backup_name: str) -> None:
    holder = connect(settings)
    try:
        with holder.transaction():
            holder.execute(f'SELECT count(*) FROM backup."{backup_name}"')
            with pytest.raises(pgerr.LockNotAvailable), write_transaction(installed, Settings(lock_timeout="100ms")):
                drop_backup(installed, backup_name)
    finally:
        holder.close()
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1
