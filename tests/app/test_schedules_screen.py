"""The schedules screen (`S`) as a DBA uses it: see what runs when and what failed, add one with the
next runs previewed, pause it, run it now, delete it with its id typed."""

from __future__ import annotations

import psycopg

from tests.app.helpers import screen_text, settle
from tests.conftest import scalar
from tests.fixtures import seed_schedules_fixture
from tui.modals.confirm import ConfirmModal
from tui.modals.schedule import ScheduleModal
from tui.screens.schedules import SchedulesScreen


async def test_the_schedules_screen_shows_when_what_and_failures(seeded_dsn: str, make_app) -> None:
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        seed_schedules_fixture(conn)
    app = make_app(seeded_dsn)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SchedulesScreen)
        text = screen_text(pilot)
        assert "every day at 02:00 UTC" in text and "every Sunday at 03:30 UTC" in text
        assert "FAILED" in text and "ok" in text and "06-02 02:00 UTC" in text  # next run, as of the frozen now
        assert "pg_cron" in text  # installed or not, the panel says what runs the schedules
        await pilot.press("escape")  # no filter: back, as on every other screen
        await settle(pilot)
        assert not isinstance(app.screen, SchedulesScreen)


async def test_add_preview_pause_run_now_and_delete(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn, as_of=None)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert "No schedules yet" in screen_text(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleModal)
        modal = app.screen
        modal.query_one("#table").value = "customers"
        cron = modal.query_one("#cron")
        cron.value = "0 25 * * *"
        await pilot.pause(0.3)  # the preview is debounced (150 ms)
        await settle(pilot)
        preview = modal.query_one("#cron-preview")
        assert 'the hour field allows 0-23, not "25"' in str(preview.render())
        cron.value = "15 4 * * 1"
        await pilot.pause(0.3)
        await settle(pilot)
        assert "every Monday at 04:15 UTC" in str(preview.render()) and "next: Mon" in str(preview.render())
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, SchedulesScreen)
        assert "every Monday at 04:15 UTC" in screen_text(pilot)
        schedule_id = app.screen.table.current.id

        await pilot.press("space")  # pause
        await settle(pilot)
        assert "paused" in screen_text(pilot)
        assert scalar_bool(seeded_dsn, f"SELECT enabled FROM backup.backup_schedule WHERE id = {schedule_id}") is False

        await pilot.press("x")  # run now
        await settle(pilot)
        with psycopg.connect(seeded_dsn) as conn:
            made = scalar(conn, f"SELECT count(*) FROM backup.backup_metadata WHERE schedule_id = {schedule_id}")
        assert made == 1 and app.screen.changed

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")  # "y" is not enough: the id must be typed
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("backspace", *str(schedule_id), "enter")
        await settle(pilot)
        assert isinstance(app.screen, SchedulesScreen)
    with psycopg.connect(seeded_dsn) as conn:
        assert scalar(conn, "SELECT count(*) FROM backup.backup_schedule") == 0
        assert scalar(conn, f"SELECT count(*) FROM backup.backup_metadata WHERE schedule_id = {schedule_id}") == 1


def scalar_bool(dsn: str, query: str) -> bool | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
        return None if row is None else row[0]
