"""The main screen driven with keys, against a real database."""

from __future__ import annotations

import psycopg
import pytest
from textual.binding import Binding

from tests.app.helpers import main_screen, screen_text, settle, visible_names
from tests.fixtures import BACKUPS, TOTAL
from tui.modals.confirm import ConfirmModal
from tui.screens.details import DetailsScreen
from tui.screens.help import HelpScreen

SIZE = (120, 40)


async def test_first_screen_lists_every_backup_biggest_first(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        names = visible_names(pilot)
        assert len(names) == len(BACKUPS) + 2  # + missing + unregistered
        sizes = [b.size_bytes for b in main_screen(pilot).listing.visible if b.size_bytes is not None]
        assert sizes == sorted(sizes, reverse=True)
        assert names[-1] == "users_backup_2026_01_01_000000"  # missing: no size, last
        text = screen_text(pilot)
        assert "orders_backup_2026_05_30_120000" in text
        assert f"{TOTAL} backups" in text and "reclaimable now" in text and "1 missing" in text
        assert "size ▼" in text
        assert "backup-tui  postgres@" in text  # the version joins it when the line has room


async def test_sort_keys_and_second_press_reverses_keeping_cursor(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("down", "down")
        current = screen.table.current.backup_table_name
        await pilot.press("n")
        names = visible_names(pilot)
        assert names == sorted(names, key=str.casefold)
        assert screen.table.current.backup_table_name == current
        await pilot.press("n")
        assert visible_names(pilot) == sorted(names, key=str.casefold, reverse=True)
        assert screen.table.current.backup_table_name == current
        await pilot.press("a")
        dated = [b for b in screen.listing.visible if b.backup_date]
        assert dated[0].backup_table_name == "invoices_backup_2025_04_27_120000"  # oldest first
        assert "age ▼" in screen_text(pilot)  # ages decrease down the list, like sizes under "size ▼"
        await pilot.press("a")
        assert screen.listing.visible[0].backup_table_name == "orders_backup_2026_05_30_120000"
        await pilot.press("s")
        assert screen.listing.sort_column == "size" and screen.listing.descending


async def test_angle_brackets_move_the_sort_column_and_header_click_sorts(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.listing.sort_column == "size"
        await pilot.press("greater_than_sign")
        assert screen.listing.sort_column == "status"
        await pilot.press("less_than_sign", "less_than_sign")
        assert "rows" not in screen.table.shown_columns()  # hidden at this width: skipped (#26)
        assert screen.listing.sort_column == "age"
        # The header line is row 0 of the table; "backup" is its first title, after the mark column.
        await pilot.click("#inventory", offset=(4, 0))
        assert screen.listing.sort_column == "name"


async def test_filter_narrows_live_enter_keeps_escape_clears(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", "o", "r", "d")
        assert set(visible_names(pilot)) == {
            "orders_backup_2026_05_30_120000",
            "orders_backup_2026_05_20_120000",
            "orders_backup_20260101",
        }
        assert f"3 of {TOTAL}" in screen_text(pilot)
        await pilot.press("backspace", "backspace", "backspace")
        await pilot.press(*"DEDUPE")  # reason, case-insensitive
        assert visible_names(pilot) == ["Mixed Case_backup_x"]
        await pilot.press("enter")
        assert main_screen(pilot).table.has_focus
        await pilot.press("n")  # a key for the table again, the filter stays
        assert visible_names(pilot) == ["Mixed Case_backup_x"]
        await pilot.press("escape")
        assert len(visible_names(pilot)) == TOTAL
        assert f"of {TOTAL}" not in screen_text(pilot)


async def test_marks_survive_sort_filter_and_refresh(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        first, second = visible_names(pilot)[:2]
        await pilot.press("space", "space")  # marks and moves down, twice
        assert screen.listing.marks == {first, second}
        assert "2 marked" in screen_text(pilot)
        assert screen_text(pilot).count("●") == 2
        await pilot.press("n", "slash", "x", "y", "z", "escape", "r")
        await settle(pilot)
        assert screen.listing.marks == {first, second}
        await pilot.press("home")
        while screen.table.current.backup_table_name != first:
            await pilot.press("down")
        await pilot.press("space")
        assert screen.listing.marks == {second}


async def test_refresh_shows_new_backups_and_keeps_cursor(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("n", "down", "down", "down")
        current = screen.table.current.backup_table_name
        with psycopg.connect(seeded_dsn, autocommit=True) as conn:
            conn.execute("SELECT backup.create_table_backup('experts', 'fresh', 'manual')")
        await pilot.press("r")
        await settle(pilot)
        assert len(visible_names(pilot)) == TOTAL + 1
        assert screen.table.current.backup_table_name == current


async def test_details_show_columns_sizes_dependants_and_count_on_demand(seeded_dsn: str, make_app) -> None:
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        conn.execute('CREATE VIEW public.recent_orders AS SELECT * FROM backup."orders_backup_2026_05_30_120000"')
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("n")
        while screen.table.current.backup_table_name != "orders_backup_2026_05_30_120000":
            await pilot.press("down")
        cursor = screen.table.cursor
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        text = screen_text(pilot)
        assert "label" in text and "text" in text and "integer" in text
        assert "view public.recent_orders" in text
        assert "recorded 20,000" in text and "press c to count" in text
        await pilot.press("c")
        await settle(pilot)
        assert "actual 20,000" in screen_text(pilot)
        await pilot.press("escape")
        assert app.screen is screen and screen.table.cursor == cursor


async def test_details_of_a_missing_backup_say_it_is_gone(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        assert "table is gone" in screen_text(pilot)


async def test_help_lists_every_key(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(pilot)
        beneath = main_screen(pilot)
        shown = [b for b in beneath.BINDINGS if isinstance(b, Binding)]
        assert len(shown) > 10
        rows = dict((what, keys) for keys, what in app.screen.rows)
        for binding in shown:
            assert app.get_key_display(binding) in rows[binding.tooltip].split(), binding
        flat = " ".join(text.replace("▎", " ").split())
        for keys, what in app.screen.rows:
            assert what.split()[0] in flat and keys.split()[0] in flat
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits_with_exit_code_0(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert app.return_value == 0


async def test_legacy_layout_is_browsable_with_a_banner(dsn: str, make_app) -> None:
    from tests.legacy import build_legacy

    with psycopg.connect(dsn, autocommit=True) as conn:
        names = build_legacy(conn)
    app = make_app(dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert names["missing"] in visible_names(pilot)
        assert "backup-tui install" in screen_text(pilot)


async def test_empty_inventory_says_how_to_create_the_first_backup(dsn: str, make_app) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        from tui.db.schema import install

        install(conn)
    app = make_app(dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        text = screen_text(pilot)
        assert "No backups yet" in text and "backup-tui create" in text


async def test_no_schema_offers_install_which_installs(dsn: str, make_app) -> None:
    app = make_app(dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Install the backup schema?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert "No backups yet" in screen_text(pilot)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('backup.backup_inventory') IS NOT NULL").fetchone()[0]


async def test_no_schema_install_declined_changes_nothing(dsn: str, make_app) -> None:
    app = make_app(dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "no backup schema" in screen_text(pilot)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regnamespace('backup') IS NULL").fetchone()[0]


async def test_read_only_session_shows_badge_and_explains_instead_of_installing(dsn: str, make_app) -> None:
    app = make_app(dsn, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        text = screen_text(pilot)
        assert "READ-ONLY" in text and "read-only" in text


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_columns_degrade_on_narrow_screens_and_fill_wide_ones(seeded_dsn: str, make_app, size) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        header = screen_text(pilot).splitlines()[1]
        for title in ["backup", "kind", "age", "size", "status"]:
            assert title in header
        assert ("reason" in header) == (size[0] > 120)
        assert all(len(line) <= size[0] for line in screen_text(pilot).splitlines())


async def test_connection_error_is_a_message_not_a_traceback(make_app) -> None:
    app = make_app("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "cannot connect" in screen_text(pilot)
        await pilot.press("q")
    assert app.return_value == 0


def test_a_large_inventory_reads_every_row_alongside_its_first_screen(
    seeded_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefetch reads every row on a second connection while the first screen loads: the rows the
    screen then takes are the full inventory's."""
    from tests.fixtures import frozen_settings
    from tui import loading
    from tui.db import Database

    monkeypatch.setattr(loading, "LARGE_INVENTORY", 1)
    monkeypatch.setattr(loading, "FIRST_SCREEN", 3)
    database = Database(frozen_settings(seeded_dsn))
    try:
        prefetch = loading.Prefetch.start(database)
        first = prefetch.take()
        rest = prefetch.take_rest(first.state)
        full = database.inventory(first.state, estimate_sizes=True)
    finally:
        database.close()
    assert first.partial_of is not None and len(first.rows) == 3
    assert sorted((b.backup_table_name, b.status, b.policy_reason) for b in rest) == sorted(
        (b.backup_table_name, b.status, b.policy_reason) for b in full
    )
    assert len(rest) == TOTAL


async def test_a_large_inventory_paints_its_biggest_backups_first_then_every_row(
    seeded_dsn: str, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above LARGE_INVENTORY backups the first load is the biggest FIRST_SCREEN only (lowered here
    so the fixture counts as large); the same rows, statuses and reasons as the full inventory's."""
    from tests.fixtures import frozen_settings
    from tui import loading
    from tui.db import Database

    monkeypatch.setattr(loading, "LARGE_INVENTORY", 1)
    monkeypatch.setattr(loading, "FIRST_SCREEN", 3)
    database = Database(frozen_settings(seeded_dsn))
    try:
        first = loading.first_load(database)
        full = {b.backup_table_name: b for b in database.inventory(first.state, estimate_sizes=True)}
    finally:
        database.close()
    assert first.partial_of is not None and first.partial_of >= len(BACKUPS) and len(first.rows) == 3
    biggest = sorted((b.size_bytes or 0 for b in full.values()), reverse=True)[:3]
    assert sorted((b.size_bytes or 0 for b in first.rows), reverse=True) == biggest
    assert all(b == full[b.backup_table_name] for b in first.rows)
    # The app paints those, then replaces them with every row.
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert len(visible_names(pilot)) == TOTAL
        text = screen_text(pilot)
        assert f"{TOTAL} backups" in text and "loading the rest" not in text
