"""Writes patch the rows they touched instead of reloading the inventory (100,000 backups make a
whole reload cost seconds): the generation of the load does not change, the totals follow."""

from __future__ import annotations

import psycopg

from tests.app.helpers import main_screen, settle
from tests.fixtures import TOTAL
from tui.inventory_state import Totals
from tui.modals.drop import DropModal
from tui.screens.inventory import Loaded


def _totals_agree(screen) -> None:
    assert screen.inventory.totals == Totals.of(screen.listing.all)


async def test_a_drop_takes_its_row_out_without_a_reload(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn, as_of=None)
    target = "orders_backup_2026_05_20_120000"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        generation = screen.inventory.generation
        await pilot.press("slash", *target, "enter", "d")
        assert isinstance(app.screen, DropModal)
        await pilot.press(*target, "enter")
        await settle(pilot)
        await pilot.press("enter")  # close the summary
        await settle(pilot)
        assert screen.inventory.generation == generation  # no whole load
        assert screen.listing.get(target) is None and screen.listing.total == TOTAL - 1
        _totals_agree(screen)


async def test_a_create_adds_its_row_and_a_load_in_flight_keeps_the_patches(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn, as_of=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        generation = screen.inventory.generation
        stale = list(screen.listing.all)  # what a load step read before the writes below
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"customers", "tab", *"patched in", "enter")
        await settle(pilot)
        new = screen.table.current
        assert new.backup_reason == "patched in" and screen.inventory.generation == generation
        assert screen.listing.total == TOTAL + 1
        _totals_agree(screen)
        dropped = "orders_backup_2026_05_20_120000"
        with psycopg.connect(seeded_dsn, autocommit=True) as conn:  # dropped elsewhere, reported here
            conn.execute("SELECT backup.drop_table_backup(%s)", (dropped,))
        screen.after_write(removed={dropped})
        # A late step of the same load, read before both writes, arrives now.
        prepared = screen.listing.prepare(stale)
        screen.post_message(
            Loaded(generation, screen.info, screen.state, prepared, Totals.of(stale), None, False, None)
        )
        await settle(pilot)
        names = {b.backup_table_name for b in screen.listing.all}
        assert new.backup_table_name in names and dropped not in names
        assert screen.listing.total == TOTAL
        _totals_agree(screen)
        await pilot.press("r")  # a whole reload starts afresh, and agrees
        await settle(pilot)
        assert {b.backup_table_name for b in screen.listing.all} == names
