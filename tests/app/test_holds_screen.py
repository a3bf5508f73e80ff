"""#27 `h` in the TUI: hold the current backup with a reason (it shows as held, its reason says by
whom and why, drop refuses it), then `h` again releases it after a yes."""

from __future__ import annotations

import psycopg

from tests.app.helpers import main_screen, screen_text, settle
from tui.modals.confirm import ConfirmModal
from tui.modals.hold import HoldModal
from tui.model import Rule


async def test_h_holds_then_releases_the_current_backup(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app
) -> None:
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.table.current.backup_table_name == awkward_backup
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HoldModal)
        await pilot.press("enter")  # no reason: refused, still open
        assert isinstance(app.screen, HoldModal) and "A reason is required." in screen_text(pilot)
        await pilot.press(*"legal [b]hold[/b]", "tab", *"31-12-2999", "enter")
        assert "Not a date" in screen_text(pilot)  # not ISO: said, still open
        app.screen.query_one("#until").value = "2999-12-31"
        await pilot.press("enter")
        await settle(pilot)
        row = screen.listing.get(awkward_backup)
        assert row is not None and row.rule is Rule.HELD and "legal [b]hold[/b]" in (row.policy_reason or "")
        line = next(text for text in screen_text(pilot).splitlines() if 'Odd "Table"' in text)
        assert " held " in line, line  # the status column says it
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "Release the hold" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert screen.listing.get(awkward_backup).rule is not Rule.HELD
    actions = installed.execute(
        "SELECT action FROM backup.backup_audit WHERE action IN ('hold', 'release') ORDER BY id"
    )
    assert [a for (a,) in actions] == ["hold", "release"]
