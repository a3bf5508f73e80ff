"""Archiving through tui.db: what a cancel, a forged row or a lost connection leaves behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.archives import backup_table_exists, s3_keys
from tests.conftest import scalar
from tui.db import DatabaseError, Settings, connect
from tui.db.archive import _check_written, archive_backup
from tui.db.backups import create_backup
from tui.db.errors import Cancelled, ErrorKind
from tui.storage import folder_name, open_archive, open_target


def test_archive_refuses_the_schemas_own_tables_even_with_a_forged_metadata_row(installed: psycopg.Connection) -> None:
    installed.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name) VALUES ('x', 'retention_policy')"
    )
    with pytest.raises(psycopg.Error, match="part of the backup schema itself"):
        installed.execute(
            "SELECT backup.archive_table_backup('retention_policy', '/tmp/x', %s)",
            ('{"sha256": "' + "0" * 64 + '", "row_count": 0}',),
        )
    assert scalar(installed, "SELECT to_regclass('backup.retention_policy') IS NOT NULL") is True


def test_a_cancelled_archive_leaves_no_archive_and_no_dropped_table(
    installed: psycopg.Connection, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed.execute(
        "CREATE TABLE public.wide AS SELECT g AS id, repeat(md5(g::text), 8) AS t FROM generate_series(1, 50000) g"
    )
    name = create_backup(installed, "wide", "cancel me", "monthly")
    seen = []

    def stop_midway(t) -> None:
        seen.append(t)
        if t.phase == "archiving" and 0 < t.rows < 50000:
            raise Cancelled("stopped by the user")

    import tui.db.archive as archive_module

    monkeypatch.setattr(archive_module, "REPORT_EVERY", 0)  # every block reports: the stop lands mid-COPY
    with pytest.raises(Cancelled):
        archive_backup(installed, settings, name, open_target(tmp_path), stop_midway)
    assert seen and seen[-1].rows < 50000
    assert list(tmp_path.iterdir()) == []  # no archive, no partial folder
    # The table is there, unchanged, and the session still works after the interrupted COPY.
    assert scalar(installed, f"SELECT count(*) FROM backup.{sql.Identifier(name).as_string(installed)}") == 50000
    status = scalar(installed, "SELECT status FROM backup.backup_inventory WHERE backup_table_name = %s", (name,))
    assert status != "archived"


def test_a_cancelled_s3_archive_leaves_no_object(
    installed: psycopg.Connection, settings: Settings, awkward_backup: str, s3: str
) -> None:
    def stop(t) -> None:
        if t.phase == "verifying":
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        archive_backup(installed, settings, awkward_backup, open_target(s3), stop)
    assert s3_keys() == []
    assert backup_table_exists(installed, awkward_backup)


def test_a_connection_lost_around_the_drop_keeps_the_verified_archive(
    installed: psycopg.Connection, settings: Settings, dsn: str, tmp_path: Path, awkward_backup: str
) -> None:
    """When the session dies between the archive's commit and the drop's, nobody can tell whether
    the drop happened: the verified archive is kept (never risk losing both copies)."""
    session = connect(settings)
    target = open_target(tmp_path)
    begin = target.begin

    def begin_then_lose_the_connection_on_commit(name: str):
        staging = begin(name)
        commit = staging.commit

        def commit_and_kill() -> str:
            location = commit()
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (session.info.backend_pid,))
            return location

        staging.commit = commit_and_kill
        return staging

    target.begin = begin_then_lose_the_connection_on_commit
    with pytest.raises(DatabaseError, match="archive is kept"):
        archive_backup(session, settings, awkward_backup, target)
    session.close()
    assert (tmp_path / folder_name(awkward_backup) / "manifest.json").exists()
    # Here the drop never committed: the table is still there too.
    assert backup_table_exists(installed, awkward_backup)


def test_the_read_back_before_the_drop_catches_stored_bytes_that_differ(tmp_path) -> None:
    """The check between writing and dropping compares the stored file with the bytes written (size
    and sha256): a file changed on its way to disk fails it, and nothing is dropped."""
    folder = tmp_path / "a"
    folder.mkdir()
    payload = b"\x28\xb5\x2f\xfd" + b"x" * 5000
    (folder / "data.csv.zst").write_bytes(payload)
    manifest = {
        "format": "csv+zstd",
        "backup_table_name": "t_backup_2026_01_01_000000",
        "row_count": 1,
        "stored_bytes": len(payload),
        "stored_sha256": hashlib.sha256(payload).hexdigest(),
    }
    (folder / "manifest.json").write_text("{}")
    _check_written(open_archive(str(folder)), manifest, None)  # as written: passes
    (folder / "data.csv.zst").write_bytes(payload[:-1] + b"y")  # same size, one byte changed
    with pytest.raises(DatabaseError) as caught:
        _check_written(open_archive(str(folder)), manifest, None)
    assert caught.value.kind is ErrorKind.DAMAGED
    (folder / "data.csv.zst").write_bytes(payload[:-10])  # cut short
    with pytest.raises(DatabaseError) as caught:
        _check_written(open_archive(str(folder)), manifest, None)
    assert caught.value.kind is ErrorKind.DAMAGED
