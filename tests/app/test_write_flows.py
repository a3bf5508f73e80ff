"""Create and drop through the modals, and errors that never break the app."""

from __future__ import annotations

import psycopg
import pytest

from tests.app.helpers import main_screen, screen_text, settle, visible_names
from tests.fixtures import TOTAL
from tui.modals.confirm import ConfirmModal
from tui.modals.create import CreateBackupModal
from tui.modals.drop import DropModal

SIZE = (120, 40)


def _count(dsn: str, query: str, params: tuple = ()) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchone()[0]


async def _goto(pilot, name: str) -> None:
    screen = main_screen(pilot)
    await pilot.press("home")
    while screen.table.current.backup_table_name != name:
        await pilot.press("down")


# -- create --------------------------------------------------------------------------------


async def test_create_happy_path_lands_cursor_on_the_new_backup(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal)
        assert "experts" in screen_text(pilot) and "rows" in screen_text(pilot)  # suggestions with sizes
        await pilot.press(*"experts", "tab", *"before the big import?", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, CreateBackupModal)
        current = main_screen(pilot).table.current
        assert current.original_table_name == "experts" and current.backup_reason == "before the big import?"
        assert current.backup_kind == "manual"
        assert len(visible_names(pilot)) == TOTAL + 1
    assert (
        _count(
            seeded_dsn,
            "SELECT count(*) FROM backup.backup_audit WHERE action = 'create' AND backup_table_name = %s",
            (current.backup_table_name,),
        )
        == 1
    )


async def test_create_with_another_kind_from_the_select(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#kind").value = "critical"
        await pilot.press(*"orders", "tab", *"legal hold", "enter")
        await settle(pilot)
        assert main_screen(pilot).table.current.backup_kind == "critical"


async def test_create_refuses_an_empty_reason_inline(seeded_dsn: str, make_app) -> None:
    before = _count(seeded_dsn, "SELECT count(*) FROM backup.backup_audit")
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"orders", "tab", "space", "space", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal)
        assert "A reason is required" in screen_text(pilot)
    assert _count(seeded_dsn, "SELECT count(*) FROM backup.backup_audit") == before


async def test_create_of_an_unknown_table_says_so_in_the_modal(seeded_dsn: str, make_app) -> None:
    before = _count(seeded_dsn, "SELECT count(*) FROM backup.backup_metadata")
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"nope", "tab", *"why", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal)
        assert "table public.nope does not exist" in screen_text(pilot)
        await pilot.press("escape")
        assert not isinstance(app.screen, CreateBackupModal)
    assert _count(seeded_dsn, "SELECT count(*) FROM backup.backup_metadata") == before


async def test_cancel_stops_the_server_side_copy_and_leaves_nothing(seeded_dsn: str, admin_dsn: str, make_app) -> None:
    tables_before = _count(seeded_dsn, "SELECT count(*) FROM pg_class WHERE relnamespace = 'backup'::regnamespace")
    app = make_app(seeded_dsn, lock_timeout="60s")
    blocker = psycopg.connect(seeded_dsn)
    try:
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")  # the copy will wait here
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            await pilot.press(*"orders", "tab", *"will be cancelled", "enter")
            with psycopg.connect(seeded_dsn, autocommit=True) as watcher:
                while not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backup-tui' "
                    "AND query LIKE '%%create_table_backup%%' AND wait_event_type = 'Lock'"
                ).fetchone()[0]:
                    await pilot.pause()
            assert "copying" in screen_text(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CreateBackupModal)
            assert "cancelled" in screen_text(pilot)
    finally:
        blocker.close()
    assert _count(seeded_dsn, "SELECT count(*) FROM pg_class WHERE relnamespace = 'backup'::regnamespace") == (
        tables_before
    )
    assert (
        _count(seeded_dsn, "SELECT count(*) FROM backup.backup_metadata WHERE backup_reason = 'will be cancelled'") == 0
    )


# -- drop ----------------------------------------------------------------------------------


async def test_drop_one_needs_its_exact_name(seeded_dsn: str, make_app) -> None:
    name = "customers_backup_2026_04_22_120000"
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await _goto(pilot, name)
        await pilot.press("d")
        assert isinstance(app.screen, DropModal)
        assert app.screen.query_one("#drop").disabled  # nothing happens until the name is typed
        await pilot.press(*"customers_backup", "enter")  # wrong (partial) name: nothing happens
        await settle(pilot)
        assert isinstance(app.screen, DropModal) and app.screen.query_one("#drop").disabled
        await pilot.press("escape")
        assert not isinstance(app.screen, DropModal)
        assert (
            _count(seeded_dsn, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)) == 1
        )
        await pilot.press("d", *name, "enter")
        await settle(pilot)
        assert "dropped 1" in screen_text(pilot)
        await pilot.press("enter")  # Close
        await settle(pilot)
        assert name not in visible_names(pilot)
    assert (
        _count(
            seeded_dsn,
            "SELECT count(*) FROM backup.backup_audit WHERE action = 'drop' AND backup_table_name = %s",
            (name,),
        )
        == 1
    )


async def test_bulk_drop_of_marks_reports_a_locked_one_and_drops_the_rest(seeded_dsn: str, make_app) -> None:
    names = [
        "orders_backup_2026_05_20_120000",
        "customers_backup_2026_04_22_120000",
        "users_backup_2026_01_01_000000",
    ]  # the last is missing: its stale row goes
    app = make_app(seeded_dsn)
    holder = psycopg.connect(seeded_dsn)
    try:
        holder.execute(f'SELECT count(*) FROM backup."{names[1]}"')  # holds a lock until rollback
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            for name in names:
                await _goto(pilot, name)
                await pilot.press("space")
            await pilot.press("d")
            assert isinstance(app.screen, DropModal)
            assert all(n in screen_text(pilot) for n in names)
            await pilot.press("2", "enter")  # the wrong count does nothing
            assert app.screen.query_one("#drop").disabled
            await pilot.press("backspace", "3", "enter")
            await settle(pilot)
            text = screen_text(pilot)
            assert "dropped 2" in text and "failed 1" in text
            assert names[1] in text and "lock timeout" in text
            await pilot.press("enter")
            await settle(pilot)
            assert names[1] in visible_names(pilot)
            assert names[0] not in visible_names(pilot) and names[2] not in visible_names(pilot)
    finally:
        holder.close()
    assert _count(seeded_dsn, "SELECT count(*) FROM backup.backup_audit WHERE action LIKE 'drop%%'") == 2


async def test_drop_acts_on_what_it_shows_even_after_a_refresh(seeded_dsn: str, make_app) -> None:
    name = "orders_backup_2026_05_30_120000"
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await _goto(pilot, name)
        await pilot.press("d")
        main_screen(pilot).reload()  # the inventory refreshes underneath the modal
        await settle(pilot)
        await pilot.press(*name, "enter")
        await settle(pilot)
        assert app.screen.result.items[0].name == name and app.screen.result.items[0].ok


async def test_unregistered_tables_are_not_dropped_from_here(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await _goto(pilot, "orders_backup_20260101")
        await pilot.press("d")
        assert not isinstance(app.screen, DropModal)
        assert "unregistered" in screen_text(pilot)


# -- sessions that cannot write --------------------------------------------------------------


@pytest.mark.parametrize("key", ["c", "d"])
async def test_read_only_session_refuses_writes_with_an_explanation(seeded_dsn: str, make_app, key: str) -> None:
    app = make_app(seeded_dsn, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert not isinstance(app.screen, (CreateBackupModal, DropModal))
        assert "read-only" in screen_text(pilot)


async def test_legacy_layout_offers_the_upgrade_before_a_write(dsn: str, make_app) -> None:
    from tests.legacy import build_legacy

    with psycopg.connect(dsn, autocommit=True) as conn:
        build_legacy(conn)
    app = make_app(dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmModal)
        assert "Upgrade the backup schema first?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal)


# -- connection loss -------------------------------------------------------------------------


def _terminate_app_sessions(admin_dsn: str, dsn: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'backup-tui' AND datname = %s",
            (dbname,),
        ).fetchone()[0]
    assert killed >= 1


async def test_lost_connection_is_shown_and_r_recovers(seeded_dsn: str, admin_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        _terminate_app_sessions(admin_dsn, seeded_dsn)
        await pilot.press("r")
        await settle(pilot)
        assert "connection lost" in screen_text(pilot) and "press r" in screen_text(pilot)
        assert len(visible_names(pilot)) == TOTAL  # what was loaded stays on screen
        await pilot.press("r")
        await settle(pilot)
        assert "connection lost" not in screen_text(pilot).split("\n")[1]
        assert len(visible_names(pilot)) == TOTAL


async def test_drop_in_flight_during_a_lost_connection_is_reported_not_done(
    seeded_dsn: str, admin_dsn: str, make_app
) -> None:
    name = "orders_backup_2026_05_30_120000"
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await _goto(pilot, name)
        await pilot.press("d", *name)
        _terminate_app_sessions(admin_dsn, seeded_dsn)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(pilot)
        assert "failed 1" in text and "connection lost" in text
    assert _count(seeded_dsn, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)) == 1
