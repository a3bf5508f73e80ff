"""The prune preview: the plan on screen, applying it, acknowledging a review."""

from __future__ import annotations

import re

import psycopg

from tests.app.helpers import main_screen, screen_text, settle
from tests.fixtures import TOTAL
from tui.modals.drop import DropModal
from tui.modals.review import ReviewModal
from tui.screens.prune import PruneScreen

SIZE = (140, 40)


async def test_preview_shows_every_decision_with_reasons_and_totals(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PruneScreen)
        text = screen_text(pilot)
        assert "delete 2 backups, free" in text  # the old daily and the weekly
        assert "orders_backup_2026_05_20_120000" in text and "daily, 12 days old, kept 7 days" in text
        assert "newest backup of public.invoices: always kept" in text  # 13 months old, but the only copy
        assert "manual, 3 months old, kept 3 months: review" in text
        freed = re.search(r"delete 2 backups, free ([\d.]+ \w+)", text)[1]
        await pilot.press("escape")
        # the main screen's "reclaimable now" is the same figure
        assert f"{freed} reclaimable now" in screen_text(pilot).replace("\n", " ")


async def test_preview_filters_like_the_main_screen(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("slash", *"delete", "enter")
        screen = app.screen
        assert {r.decision for r in screen.listing.visible} == {"delete"}
        assert f"2 of {TOTAL} match" in screen_text(pilot)


async def test_apply_from_the_preview_needs_the_count_and_drops_the_plan(live_dsn: str, make_app) -> None:
    app = make_app(live_dsn, as_of=None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, DropModal)
        await pilot.press("1", "enter")
        assert app.screen.query_one("#drop").disabled
        await pilot.press("backspace", "2", "enter")
        await settle(pilot)
        assert "dropped 2" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "delete 0 backups" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert len(main_screen(pilot).listing.all) == TOTAL - 2
    with psycopg.connect(live_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM backup.backup_audit WHERE action LIKE 'drop%'").fetchone()[0] == 2


async def test_a_what_if_plan_is_marked_and_never_applied(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)  # as of FROZEN_NOW
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "WHAT-IF as of 2026-06-01" in screen_text(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "WHAT-IF" in screen_text(pilot) and "delete 2 backups" in screen_text(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, DropModal)
        assert "deletes only at the real current time" in screen_text(pilot)
    with psycopg.connect(seeded_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM backup.backup_audit WHERE action LIKE 'drop%'").fetchone()[0] == 0


async def test_review_is_acknowledged_with_a_note(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        while screen.table.current.backup_table_name != "experts_backup_2026_02_01_120000":
            await pilot.press("down")
        assert screen.table.current.decision == "review"
        await pilot.press("v")
        assert isinstance(app.screen, ReviewModal)
        await pilot.press("enter")
        assert "A note is required" in screen_text(pilot)
        await pilot.press(*"checked with the data team", "enter")
        await settle(pilot)
        assert screen.listing.get("experts_backup_2026_02_01_120000").decision == "keep"
    with psycopg.connect(seeded_dsn) as conn:
        assert (
            conn.execute(
                "SELECT review_note FROM backup.backup_metadata WHERE backup_table_name = %s",
                ("experts_backup_2026_02_01_120000",),
            ).fetchone()[0]
            == "checked with the data team"
        )


async def test_check_screen_reports_and_rows_with_findings_are_flagged(seeded_dsn: str, make_app) -> None:
    from tui.screens.check import CheckScreen

    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        conn.execute('CREATE VIEW public.watch AS SELECT * FROM backup."orders_backup_2026_05_30_120000"')
    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert main_screen(pilot).table.flags == {"orders_backup_2026_05_30_120000"}
        row = next(line for line in screen_text(pilot).splitlines() if "orders_backup_2026_05_30_120000" in line)
        assert row.lstrip().startswith("!")
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, CheckScreen)
        text = screen_text(pilot)
        assert "Missing" in text and "users_backup_2026_01_01_000000" in text
        assert "Unregistered" in text and "orders_backup_20260101" in text
        assert "view public.watch depends on it" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, CheckScreen)


async def test_register_an_unregistered_table_from_the_tui(seeded_dsn: str, make_app) -> None:
    from tui.modals.adopt import AdoptModal

    app = make_app(seeded_dsn)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("home")
        while screen.table.current.backup_table_name != "orders_backup_20260101":
            await pilot.press("down")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, AdoptModal)
        assert app.screen.query_one("#source").value == "orders"  # inferred from the name
        await pilot.press("enter")
        await settle(pilot)
        assert screen.listing.get("orders_backup_20260101").status != "unregistered"
