"""On call at 80×24 and 60×20: readable rows, a filter that finds statuses, marks in bulk, sizes per
source table, a lock wait that says whose, and a server that is not there."""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from tests.app.helpers import main_screen, screen_text, settle, visible_names
from tests.fixtures import TOTAL
from tui.db.backups import create_backup
from tui.db.sample import create_live_table
from tui.modals.create import CreateBackupModal
from tui.modals.drop import DropModal
from tui.screens.inventory import InventoryScreen
from tui.screens.sources import SourcesScreen

STAMP = re.compile(r"\d{4}_\d{2}_\d{2}_\d{6}")


def _table_lines(pilot) -> list[str]:
    """The table's lines on screen (between its header and the summary)."""
    lines = screen_text(pilot).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("backup "))
    return [line for line in lines[start + 1 :] if line.strip() and "backups" not in line][: TOTAL + 1]


async def test_status_kind_and_source_words_filter_and_the_summary_gives_filtered_totals(
    seeded_dsn: str, make_app
) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("slash", *"status:expired", "enter")
        expired = [b for b in screen.listing.all if b.status == "expired"]
        assert visible_names(pilot) == [b.backup_table_name for b in expired] and expired
        text = screen_text(pilot)
        assert f"{len(expired)} of {TOTAL}" in text
        assert re.search(r"\d+(\.\d)? \w+ of \d+(\.\d)? MiB", text)  # its size beside the whole
        await pilot.press("slash", *"daily")  # "/" again selects the kept filter: typing replaces it
        dailies = {b.backup_table_name for b in screen.listing.all if b.backup_kind == "daily"}
        assert set(visible_names(pilot)) == dailies and screen.filter_text == "daily"
        await pilot.press("enter", "slash", "right", *" kind:d")  # → keeps it and edits on
        assert screen.filter_text == "daily kind:d"
        await pilot.press("enter", "slash", *"source:=orders status:keep", "enter")
        assert {b.status for b in screen.listing.visible} == {"keep"}
        assert {b.original_table_name for b in screen.listing.visible} == {"orders"}


async def test_mark_all_shown_invert_and_clear(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("slash", *"orders", "enter", "asterisk")
        shown = set(visible_names(pilot))
        assert screen.listing.marks == shown and f"{len(shown)} marked" in screen_text(pilot)
        await pilot.press("escape", "i")  # every row shown now: the marks flip
        assert screen.listing.marks == {b.backup_table_name for b in screen.listing.all} - shown
        await pilot.press("u")
        assert screen.listing.marks == set() and "marked" not in screen_text(pilot)


async def test_grouped_view_per_source_table_and_back(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = main_screen(pilot).listing.all
        await pilot.press("g")
        assert isinstance(app.screen, SourcesScreen)
        groups = app.screen.listing.visible
        assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)  # biggest first
        orders = next(g for g in groups if g.source == "orders")
        mine = [b for b in rows if b.source == "orders"]
        assert orders.count == len(mine) and orders.size == sum(b.size_bytes or 0 for b in mine)
        assert orders.reclaimable == sum(b.size_bytes or 0 for b in mine if b.status == "expired")
        assert abs(sum(g.share for g in groups) - 1) < 1e-9
        text = screen_text(pilot)
        assert "source table" in text and "%" in text and "█" in text
        await pilot.press("down")
        chosen = app.screen.table.current.source
        await pilot.press("enter")
        inventory = main_screen(pilot)
        assert isinstance(app.screen, InventoryScreen)
        assert {b.source for b in inventory.listing.visible} == {chosen}
        assert inventory.filter_text.startswith("source:=")
        await pilot.press("escape")  # back to the grouped view, its cursor where it was
        assert isinstance(app.screen, SourcesScreen) and app.screen.table.current.source == chosen
        await pilot.press("g")
        assert isinstance(app.screen, InventoryScreen) and not inventory.listing.query


async def test_at_60_columns_no_age_size_or_status_is_cut_and_every_name_keeps_its_date(
    seeded_dsn: str, make_app
) -> None:
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        create_live_table(conn, "customer_lifetime_value_snapshots", 10)

        long_name = create_backup(conn, "customer_lifetime_value_snapshots", "wide one", "manual")
    app = make_app(seeded_dsn)
    for size in ((60, 20), (80, 24)):
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            screen = main_screen(pilot)
            await pilot.press("n")  # by name: the long one is on the first screen
            lines = _table_lines(pilot)
            header = screen_text(pilot).splitlines()
            assert any("age" in h and "size" in h and "status" in h for h in header)
            for row, line in zip(screen.listing.visible, lines, strict=False):
                stamp = STAMP.search(row.backup_table_name)
                if stamp:
                    assert stamp.group() in line, (size, line)
                words = line.split()
                assert words[-1].rstrip("…") == words[-1], (size, line)  # status never cut
                assert "…" not in " ".join(words[-3:]), (size, line)  # nor age or size
            assert any(long_name[-17:] in line for line in lines), size
        app = make_app(seeded_dsn)


async def test_a_server_that_is_not_there_says_so_and_r_retries(make_app) -> None:
    app = make_app("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(pilot)
        assert "not connected" in text and "cannot connect" in text and "press r to retry" in text
        await pilot.press("r")
        await settle(pilot)
        assert "cannot connect" in screen_text(pilot)  # tried again, told again; the app is still up
        assert app.is_running


async def test_tab_accepts_the_table_suggestion_in_the_create_form(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn, as_of=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal)
        await pilot.press(*"cust", "tab", *"before the change", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, CreateBackupModal)
        assert main_screen(pilot).table.current.original_table_name == "customers"


async def test_a_drop_waiting_for_a_lock_says_whose_and_escape_stops_it(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn, as_of=None, lock_timeout="60s")
    target = "orders_backup_2026_05_30_120000"
    with psycopg.connect(seeded_dsn, application_name="night-migration") as holder:
        holder.execute(sql.SQL("LOCK TABLE backup.{} IN ACCESS SHARE MODE").format(sql.Identifier(target)))
        pid = holder.info.backend_pid
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = main_screen(pilot)
            await pilot.press("slash", *target, "enter", "d")
            assert isinstance(app.screen, DropModal)
            await pilot.press(*target, "enter")
            for _ in range(400):  # until the watcher reports (it asks once a second)
                await pilot.pause(0.05)
                if "waiting for a lock" in screen_text(pilot):
                    break
            text = " ".join(screen_text(pilot).split())
            assert f"waiting for a lock held by pid {pid}" in text and "night-migration" in text
            await pilot.press("escape")  # Stop: our statement is cancelled at once
            await settle(pilot)
            text = " ".join(screen_text(pilot).split())
            assert "dropped 0" in text and "failed 1" in text
            await pilot.press("enter")
            await settle(pilot)
            assert screen.listing.get(target) is not None
    with psycopg.connect(seeded_dsn) as conn:
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"backup.{target}",)).fetchone()[0]
