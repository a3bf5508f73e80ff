"""#26, on call round 2, as a user meets it: the prune applies what the preview shows (filtered:
only those) or only its deletes, the dialogs keep their buttons in sight at 80x24, a damaged
archive is flagged, `<`/`>` never sort by a column that is not on screen, the summary keeps size
and reclaimable at 60 columns, and details offer no count for a table that is gone."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from tests.app.helpers import main_screen, screen_text, settle
from tests.cli.test_cli import run
from tui.db.backups import create_backup
from tui.modals.drop import DropModal
from tui.model import Decision
from tui.screens.details import DetailsScreen
from tui.screens.prune import PruneScreen
from tui.storage import folder_name


async def test_x_applies_only_the_rows_a_filter_shows_and_says_so(live_dsn: str, make_app) -> None:
    app = make_app(live_dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PruneScreen)
        everything = [r for r in screen.listing.all if r.decision is Decision.DELETE]
        await pilot.press("slash", *"orders", "enter")
        shown = [r for r in screen.listing.visible if r.decision is Decision.DELETE]
        assert shown and len(shown) < len(everything)  # the filter leaves some deletes out
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, DropModal)
        job = app.screen.job
        assert sorted(job.names) == sorted(r.backup_table_name for r in shown)
        words = " ".join(screen_text(pilot).split())
        assert f"Prune the {len(screen.listing.visible)} rows shown (filter orders): delete {len(shown)}" in words
        await pilot.press("escape")
        await settle(pilot)
    with psycopg.connect(live_dsn) as conn:  # cancelled: nothing dropped
        assert conn.execute("SELECT count(*) FROM backup.backup_audit WHERE action LIKE 'drop%'").fetchone() == (0,)


async def test_capital_x_deletes_without_archiving_and_asks_no_folder(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app
) -> None:
    installed.execute(  # the awkward backup is 400 days old (archive), one more expired daily (delete)
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '400 days' WHERE backup_table_name = %s",
        (awkward_backup,),
    )
    create_backup(installed, 'Odd "Table" é', "the newest, kept", "monthly")
    installed.execute("CREATE TABLE public.events AS SELECT 1 AS id")
    for days in (30, 0):
        name = installed.execute(
            "SELECT backup.create_table_backup('events'::text, 'daily copy'::text, 'daily'::text)"
        ).fetchone()[0]
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        plan = app.screen.listing.all
        assert any(r.decision is Decision.ARCHIVE for r in plan) and any(r.decision is Decision.DELETE for r in plan)
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, DropModal)
        assert app.screen.job.to_archive == [] and app.screen.target is None
        assert not app.screen.query("#target")  # no folder asked for
        assert "Prune: delete 1 (" in screen_text(pilot)
        app.screen.query_one("#confirm").value = app.screen.expected  # one backup: its name
        await pilot.press("enter")
        await settle(pilot)
        assert "dropped 1" in screen_text(pilot)
    status = "SELECT status FROM backup.backup_inventory WHERE backup_table_name = %s"
    assert installed.execute(status, (awkward_backup,)).fetchone() == ("archive",)  # still waiting, in place


async def test_dialog_buttons_stay_in_sight_at_80x24(live_dsn: str, make_app) -> None:
    app = make_app(live_dsn, as_of=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen.query_one("#drop-dialog")
        for button in app.screen.query("Button"):
            assert dialog.region.contains_region(button.region), button
        assert "Cancel" in screen_text(pilot) and "Drop" in screen_text(pilot)
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen.query_one("#create-dialog")
        for button in app.screen.query("Button"):
            assert dialog.region.contains_region(button.region), button


async def test_a_damaged_archive_is_flagged_in_the_list(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app, tmp_path: Path, capsys
) -> None:
    assert run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)[0] == 0
    (tmp_path / folder_name(awkward_backup) / "data.csv.zst").write_bytes(b"not zstd")
    assert run(capsys, "verify", awkward_backup, "--dsn", dsn)[0] == 1  # recorded: damaged
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        line = next(row for row in screen_text(pilot).splitlines() if awkward_backup[:20] in row)
        assert line.startswith(" !"), line


async def test_sorting_by_the_next_column_never_picks_one_off_screen(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        shown = screen.table.shown_columns()
        assert "kind" in shown  # kept at 80 columns, as the README says
        seen = set()
        for _ in range(len(shown) * 2):
            await pilot.press("greater_than_sign")
            seen.add(screen.listing.sort_column)
        for _ in range(len(shown) * 2):
            await pilot.press("less_than_sign")
            seen.add(screen.listing.sort_column)
        assert seen == set(shown)


async def test_at_60_columns_the_summary_keeps_size_and_reclaimable(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        await settle(pilot)
        summary = screen_text(pilot).splitlines()[-2]
        assert "MiB" in summary and "reclaimable" in summary, summary


async def test_details_of_a_backup_whose_table_went_offer_no_count(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app
) -> None:
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        with psycopg.connect(dsn, autocommit=True) as other:  # another session drops it meanwhile
            other.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("backup", awkward_backup)))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        text = screen_text(pilot)
        assert "The table is gone" in text and "none: the table is gone" in text
        assert "Count rows" not in text
        await pilot.press("c")  # the key does nothing: there is nothing to count
        await settle(pilot)
        assert "counting" not in screen_text(pilot)


async def test_equals_in_the_preview_deletes_redundant_copies_and_the_list_flags_them(
    installed: psycopg.Connection, dsn: str, make_app
) -> None:
    installed.execute("CREATE TABLE public.rates (id int PRIMARY KEY, v text)")
    installed.execute("INSERT INTO public.rates SELECT g, 'v' FROM generate_series(1, 20) g")
    older = create_backup(installed, "rates", "first", "daily")
    newer = create_backup(installed, "rates", "second, identical", "daily")
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert {r.backup_table_name: r.decision for r in screen.listing.all}[older] is Decision.KEEP
        await pilot.press("equals_sign")
        await settle(pilot)
        decisions = {r.backup_table_name: r.decision for r in screen.listing.all}
        assert decisions[older] is Decision.DELETE and decisions[newer] is Decision.KEEP
        assert "REDUNDANT COPIES" in screen_text(pilot)
        await pilot.press("equals_sign")  # again: the policy alone
        await settle(pilot)
        assert {r.backup_table_name: r.decision for r in screen.listing.all}[older] is Decision.KEEP
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("r")  # the list reads redundant_of after a reload
        await settle(pilot)
        line = next(row for row in screen_text(pilot).splitlines() if older in row)
        assert line.startswith(" ="), line
