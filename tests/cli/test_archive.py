"""archive and restore: a round trip of awkward data, verification before any drop."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import scalar
from tui import db

AWKWARD = """
CREATE TABLE public."Odd ""Table"" é" (
    id int PRIMARY KEY,
    note text,
    blob bytea,
    doc jsonb,
    tags text[],
    at timestamptz,
    amount numeric(20, 6)
);
INSERT INTO public."Odd ""Table"" é" VALUES
    (1, E'line one\\nline two, with a comma and "quotes"', '\\x00ff10'::bytea, '{"a": [1, 2, {"b": null}]}',
     ARRAY['x', 'y,z', NULL], '2025-03-01 12:34:56.789+02', 12345678901234.123456),
    (2, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, '', '\\x'::bytea, '[]', '{}', '-infinity', -0.000001),
    (4, 'ünïcødé ✓', '\\xdeadbeef', '"just a string"', ARRAY['\\\\back\\\\slash'], 'infinity', 0);
"""


@pytest.fixture
def awkward_backup(installed: psycopg.Connection) -> str:
    installed.execute(AWKWARD)
    return db.create_backup(installed, db.Settings(), 'Odd "Table" é', "before the archive test", "monthly")


def _rows(conn: psycopg.Connection, table: str) -> list[tuple]:
    """Each row as PostgreSQL's own text (compares infinities, bytea and numerics exactly)."""
    return conn.execute(f"SELECT t::text FROM {table} t ORDER BY id").fetchall()


def test_archive_then_restore_round_trips_every_value(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    original = _rows(installed, 'public."Odd ""Table"" é"')
    code, out, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 0, err
    assert "archived" in out and "4 rows" in out
    location = tmp_path / awkward_backup
    manifest = json.loads((location / "manifest.json").read_text())
    assert manifest["row_count"] == 4 and manifest["source_table"] == 'Odd "Table" é'
    assert manifest["backup_kind"] == "monthly" and len(manifest["sha256"]) == 64
    # The table left the database; the row stayed, archived, with its location.
    assert scalar(installed, "SELECT to_regclass(format('backup.%%I', %s::text))", (awkward_backup,)) is None
    status = installed.execute(
        "SELECT status, policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (awkward_backup,)
    ).fetchone()
    assert status == ("archived", f"archived to {location}")
    code, out, _ = run(capsys, "restore", awkward_backup, "--as", "odd_restored", "--dsn", dsn)
    assert code == 0 and "4 rows" in out
    assert _rows(installed, "public.odd_restored") == original


def test_a_corrupted_archive_is_refused_on_restore(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    data = tmp_path / awkward_backup / "data.csv.gz"
    content = gzip.decompress(data.read_bytes()).replace(b"line one", b"line ONE")
    data.write_bytes(gzip.compress(content))
    code, _, err = run(capsys, "restore", awkward_backup, "--as", "odd_restored", "--dsn", dsn)
    assert code == 1 and "checksum mismatch" in err
    assert scalar(installed, "SELECT to_regclass('public.odd_restored')") is None


def test_archive_with_a_dependant_drops_nothing_and_leaves_no_archive(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute(
        sql.SQL("CREATE VIEW public.keeps_it AS SELECT * FROM {}").format(sql.Identifier("backup", awkward_backup))
    )
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "view public.keeps_it" in err
    assert scalar(installed, "SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (awkward_backup,))
    # The verified archive stays (it is complete); nothing half-written is left beside it.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_restore_of_a_backup_still_in_the_database_and_never_over_a_table(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], awkward_backup: str
) -> None:
    code, out, _ = run(capsys, "restore", awkward_backup, "--as", "copy_back", "--dsn", dsn)
    assert code == 0 and "4 rows" in out
    code, _, err = run(capsys, "restore", awkward_backup, "--as", "copy_back", "--dsn", dsn)
    assert code == 1 and "already exists" in err


def test_archive_refuses_to_overwrite_and_to_run_unconfirmed_off_a_terminal(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--dsn", dsn)
    assert code == 1 and "--yes" in err
    (tmp_path / awkward_backup).mkdir()
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "already exists" in err
    assert scalar(installed, "SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (awkward_backup,))


def test_prune_apply_archives_the_archive_decisions(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute("UPDATE backup.backup_metadata SET backup_date = now() - interval '400 days'")
    newer = db.create_backup(installed, db.Settings(), 'Odd "Table" é', "newer", "monthly")
    code, out, err = run(capsys, "prune", "--apply", "--archive-to", str(tmp_path), "--dsn", dsn)
    assert code == 0, err
    assert f"archived {awkward_backup}" in out
    statuses = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert statuses == {awkward_backup: "archived", newer: "keep"}


async def test_archive_from_the_tui_with_the_typed_confirmation(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.app.helpers import main_screen, screen_text, settle
    from tui.modals.drop import DropModal
    from tui.screens import inventory

    monkeypatch.setattr(inventory, "DEFAULT_TARGET", tmp_path)  # where this user keeps archives
    app = make_app(dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, DropModal)
        app.screen.query_one("#confirm").value = awkward_backup  # quotes and spaces: set, not typed
        await pilot.press("enter")
        await settle(pilot)
        assert "archived 1" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert main_screen(pilot).listing.get(awkward_backup).status == "archived"
        await pilot.press("enter")  # details of an archived backup: its manifest
        await settle(pilot)
        assert '"sha256"' in screen_text(pilot) and str(tmp_path) in screen_text(pilot)
    assert (tmp_path / awkward_backup / "manifest.json").exists()


def test_archive_refuses_the_schemas_own_tables_even_with_a_forged_metadata_row(installed: psycopg.Connection) -> None:
    installed.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name) VALUES ('x', 'retention_policy')"
    )
    with pytest.raises(psycopg.Error, match="part of the backup schema itself"):
        installed.execute("SELECT backup.archive_table_backup('retention_policy', '/tmp/x', '{}')")
    assert scalar(installed, "SELECT to_regclass('backup.retention_policy') IS NOT NULL") is True
