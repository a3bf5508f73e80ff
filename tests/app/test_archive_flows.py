"""Archiving from the TUI: the typed confirmation, Stop, and the prune preview's archive decisions."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import psycopg
import pytest

from tests.archives import backup_table_exists
from tui.db import Database
from tui.db.backups import create_backup
from tui.storage import TARGET_ENV, folder_name


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

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))  # where this user keeps archives
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
        text = screen_text(pilot)
        assert str(tmp_path) in text and re.search(r"^\s+sha256\s+[0-9a-f]{64}$", text, re.M), text  # a table row
        assert re.search(r"^\s+columns\s+column\s+type$", text, re.M)  # the columns as a table of their own
    assert (tmp_path / folder_name(awkward_backup) / "manifest.json").exists()


async def test_stop_in_the_tui_cancels_the_archive_in_flight(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Stop pressed while the archive streams: the worker is held at its first progress report
    until the key is in, so the test does not race the (small) archive."""
    from tests.app.helpers import screen_text, settle
    from tui.modals.drop import DropModal

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))
    reported, released = threading.Event(), threading.Event()
    real = Database.archive_many

    def held(self, names, target, progress=None, transfer=None, cancel=None):
        def gate(t):
            reported.set()
            released.wait(timeout=30)
            if transfer:
                transfer(t)

        return real(self, names, target, progress, gate, cancel)

    monkeypatch.setattr(Database, "archive_many", held)
    import tui.db.archive as archive_module

    monkeypatch.setattr(archive_module, "REPORT_EVERY", 0)
    app = make_app(dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, DropModal)
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        while not reported.is_set():
            await pilot.pause()
        await pilot.click("#cancel")  # "Stop"
        released.set()
        await settle(pilot)
        text = screen_text(pilot)
        assert "cancelled" in text and "archived 0" in text
    assert list(tmp_path.iterdir()) == []
    assert backup_table_exists(installed, awkward_backup)


async def test_prune_apply_in_the_tui_archives_the_archive_decisions(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.app.helpers import screen_text, settle
    from tui.modals.drop import DropModal

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))
    newer = create_backup(installed, 'Odd "Table" é', "newer", "monthly")
    installed.execute(  # one backup 400 days old, one a day old
        "UPDATE backup.backup_metadata SET backup_date = now() - CASE backup_table_name WHEN %s "
        "THEN interval '400 days' ELSE interval '1 day' END",
        (awkward_backup,),
    )
    app = make_app(dsn, as_of=None)  # pruning happens at the real current time only
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "1 to archive" in screen_text(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, DropModal)
        words = " ".join(screen_text(pilot).split())
        assert "archive 1 (16.0 KiB, verified, then dropped) and delete 0" in words  # the preview's figures
        assert app.screen.query_one("#target").value == str(tmp_path)  # where this user keeps archives
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        await settle(pilot)
        assert "archived 1, dropped 0" in screen_text(pilot)
    statuses = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert statuses == {awkward_backup: "archived", newer: "keep"}
    assert (tmp_path / folder_name(awkward_backup) / "manifest.json").exists()


async def test_d_on_an_archived_backup_forgets_it_in_words_and_keeps_the_files(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app, tmp_path: Path, capsys
) -> None:
    from tests.app.helpers import main_screen, screen_text, settle
    from tests.cli.test_cli import run
    from tui.modals.drop import DropModal

    assert run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)[0] == 0
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert main_screen(pilot).table.current.backup_table_name == awkward_backup
        await pilot.press("enter", "c")  # an archived backup's rows are counted in its archive
        await settle(pilot)
        assert "in the archive (see below)" in screen_text(pilot)
        assert "Count rows" not in screen_text(pilot)  # nothing to count: the key is not offered
        await pilot.press("escape", "d")
        await settle(pilot)
        assert isinstance(app.screen, DropModal)
        text = " ".join(screen_text(pilot).split())
        assert "exists only in its archive" in text and "the files stay" in text and "no longer know" in text
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        await settle(pilot)
        assert "forgot 1" in screen_text(pilot) or "dropped or forgot 1" in screen_text(pilot)
    assert (tmp_path / folder_name(awkward_backup) / "manifest.json").exists()
    assert installed.execute("SELECT count(*) FROM backup.backup_audit WHERE action = 'forget'").fetchone()[0] == 1


async def test_v_verifies_an_archive_and_a_damaged_one_is_reported(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app, tmp_path: Path, capsys
) -> None:
    from tests.app.helpers import screen_text, settle
    from tests.cli.test_cli import run

    assert run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)[0] == 0
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("V")
        await settle(pilot)
        await pilot.press("enter")  # not destructive: no typing, Verify has focus
        await settle(pilot)
        assert "verified 1" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        (tmp_path / folder_name(awkward_backup) / "data.csv.zst").write_bytes(b"not zstd")
        await pilot.press("V")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "damaged or unreadable 1" in screen_text(pilot) and "is damaged" in screen_text(pilot)
    row = installed.execute(
        "SELECT verify_result FROM backup.backup_metadata WHERE backup_table_name = %s", (awkward_backup,)
    ).fetchone()
    assert row == ("damaged",)


async def test_the_archive_dialog_remembers_the_target_and_warns_when_it_is_local(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app, tmp_path: Path, s3: str
) -> None:
    from tests.app.helpers import main_screen, screen_text, settle
    from tui.config import last_archive_target
    from tui.modals.drop import DropModal

    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, DropModal)
        assert "the machine backup-tui runs on" in " ".join(screen_text(pilot).split())  # the default: local
        app.screen.query_one("#target").value = s3
        await settle(pilot)
        assert "the machine backup-tui runs on" not in " ".join(screen_text(pilot).split())
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        await settle(pilot)
        assert "archived 1" in screen_text(pilot)
        place = main_screen(pilot).info.place
    # Remembered for this database only: another database's dialog offers its own default.
    assert last_archive_target(place) == s3
    assert last_archive_target(place + "-elsewhere") is None
