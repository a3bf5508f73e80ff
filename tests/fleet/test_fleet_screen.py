"""The fleet screen: rows as each database answers, enter opens one database (its header in its own
colour and name), a drop there, escape back with that row asked again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.app.helpers import screen_text, settle
from tests.fixtures import TOTAL, frozen_settings
from tests.fleet.conftest import Fleet
from tui.app import BackupApp
from tui.db import Database
from tui.db import fleet as fleet_sql
from tui.modals.drop import DropModal
from tui.screens.fleet import FleetScreen
from tui.screens.inventory import InventoryScreen
from tui.widgets.bars import ConnectionBar, target_colour


async def _all_answered(pilot, screen: FleetScreen) -> None:
    await settle(pilot)
    while any(r.state is None and r.error is None for r in screen.listing.all):
        await pilot.pause(0.05)
        await settle(pilot)


async def test_fleet_then_a_database_then_a_drop_then_back(fleet: Fleet) -> None:
    targets = Database.fleet_targets((), (), ())
    database = Database(replace(frozen_settings(fleet.dsns["prod"]), as_of=None, connect_timeout=2))
    app = BackupApp(database, fleet=targets)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await _all_answered(pilot, screen)
        text = screen_text(pilot)
        assert "5 databases" in text and "2 unreachable" in text and "connection refused" in text
        assert screen.listing.visible[0].target.label == "prod"  # the most reclaimable first
        before = screen.listing.get("prod")
        await pilot.press("home", "enter")
        await settle(pilot)
        inventory = app.screen
        assert isinstance(inventory, InventoryScreen) and inventory.target == "prod"
        bar = inventory.query_one(ConnectionBar)
        header = screen_text(pilot).splitlines()[0]
        assert header.endswith(" prod") and str(bar.styles.background.hex).lower() == target_colour("prod").lower()
        target = "orders_backup_2026_05_20_120000"
        await pilot.press("slash", *target, "enter", "d")
        assert isinstance(app.screen, DropModal)
        await pilot.press(*target, "enter")
        await settle(pilot)
        await pilot.press("enter", "escape", "escape")  # close the summary, clear the filter, back
        await settle(pilot)
        assert app.screen is screen
        await _all_answered(pilot, screen)
        after = screen.listing.get("prod")
        assert after.backups == TOTAL - 1 == before.backups - 1 and after.size < before.size


async def test_enter_on_an_unreachable_database_says_why(fleet: Fleet) -> None:
    targets = Database.fleet_targets(["down"], (), ())
    app = BackupApp(Database(frozen_settings(fleet.dsns["prod"])), fleet=targets)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await _all_answered(pilot, app.screen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FleetScreen) and "down is unreachable" in screen_text(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_screen_snapshot(snap_compare, fleet: Fleet, monkeypatch: pytest.MonkeyPatch, size) -> None:
    """Hosts and server versions depend on where the suite runs: pinned, like the main screen's."""
    original = fleet_sql.summary

    def pinned(target, *args, **kwargs):
        row = original(target, *args, **kwargs)
        if row.reachable:
            return replace(row, host="db.example", port="5432", dbname=target.label, version="18.0", database_size=None)
        return row

    monkeypatch.setattr(fleet_sql, "summary", pinned)
    targets = Database.fleet_targets((), (), ())
    app = BackupApp(Database(frozen_settings(fleet.dsns["prod"])), fleet=targets)

    async def answered(pilot) -> None:
        await _all_answered(pilot, app.screen)

    assert snap_compare(app, terminal_size=size, run_before=answered)
