"""Every screen and every binding, pressed (#23): on the demo's data, on a database with findings
of every check Category, and on hostile data, the app is alive after each key, no worker failed,
and nothing said "something went wrong". (0.2: `!` in the demo died of a KeyError on schedule
findings; `r` in the check screen too; `V` on a row forgotten meanwhile.)"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql
from textual.pilot import Pilot
from textual.worker import WorkerState

from tests.app.helpers import screen_text, settle
from tests.conftest import make_table, scalar
from tests.fixtures import seed_schedules_fixture, seed_ui_fixture
from tests.hostile import seed_hostile
from tui.db.check import run_check
from tui.db.sample import drop_table_behind_metadata, seed_demo
from tui.model import Category, SchemaState

# Keys that leave the app from the main screen (tested on their own: test_worker_policy, e2e).
LEAVE = {"q", "ctrl+c", "ctrl+q"}
# The screens a user opens from the main one, by the key that opens them.
SCREENS = ["", "g", "enter", "exclamation_mark", "p", "S", "question_mark", "c", "d", "A", "R", "V", "F"]


def every_category(conn: psycopg.Connection) -> None:
    """The UI fixture plus one finding of each Category but NOT_INSTALLED (the empty database)."""
    seed_ui_fixture(conn)
    seed_schedules_fixture(conn)  # a failing schedule
    names = [r[0] for r in conn.execute("SELECT backup_table_name FROM backup.backup_metadata ORDER BY 1")]
    present = [n for n in names if scalar(conn, "SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (n,))]
    drop_table_behind_metadata(conn, present[0])  # missing
    conn.execute("CREATE TABLE backup.stray_backup_20250101 (id int)")  # unregistered
    drifting = sql.Identifier("backup", present[1])
    conn.execute(
        sql.SQL("INSERT INTO {} SELECT t.* FROM {} t CROSS JOIN generate_series(1, 3)").format(drifting, drifting)
    )
    conn.execute(sql.SQL("ANALYZE {}").format(drifting))  # drift, seen by estimates too
    conn.execute(sql.SQL("CREATE VIEW public.report AS SELECT * FROM {}").format(sql.Identifier("backup", present[2])))
    conn.execute(
        "UPDATE backup.backup_metadata SET archive_location = '/cold/x', archived_at = now(), verify_result = "
        "'damaged', verify_detail = 'checksum mismatch' WHERE backup_table_name = %s::text",
        (present[0],),
    )  # archive (damaged): the missing one's row, now archived
    drop_table_behind_metadata(conn, present[3])  # missing again (the archived one is not missing)
    conn.execute("GRANT SELECT ON backup.backup_metadata TO PUBLIC")  # exposure
    conn.execute("ALTER FUNCTION backup.age_words(interval) RESET search_path")  # search_path
    conn.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN "
        "CREATE ROLE anon NOLOGIN; END IF; END $$"
    )
    conn.execute("GRANT EXECUTE ON FUNCTION backup.drop_table_backup(text) TO anon")  # definer
    make_table(conn, "restored_src", rows=2)
    with conn.transaction():  # a real restore, then readable by PUBLIC: restored
        conn.execute("CREATE TABLE public.restored AS TABLE public.restored_src")
        conn.execute("SELECT backup.finish_restore('public.restored'::regclass, 'x'::text, NULL::text, false)")
    conn.execute("GRANT SELECT ON public.restored TO PUBLIC")
    conn.execute("CREATE FUNCTION backup.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'")  # foreign
    found = {f.category for f in run_check(conn, SchemaState.CURRENT, fast=True)()}
    assert found == set(Category) - {Category.NOT_INSTALLED}, set(Category) - found


DATASETS: dict[str, Callable[[psycopg.Connection], object]] = {
    "demo": lambda conn: (seed_demo(conn), conn.execute("SELECT 1")),
    "every category": every_category,
    "hostile": lambda conn: (seed_ui_fixture(conn), seed_hostile(conn)),
    "empty": lambda conn: None,
}


async def _back_to_main(pilot: Pilot) -> None:
    app = pilot.app
    for _ in range(4):
        if len(app.screen_stack) <= 2:
            return
        await pilot.press("escape")
        await settle(pilot)
    while len(app.screen_stack) > 2:
        app.pop_screen()
        await settle(pilot)


def _fine(pilot: Pilot, where: str) -> None:
    app = pilot.app
    assert app.is_running, where
    failed = [w for w in app.workers if w.state is WorkerState.ERROR]
    assert failed == [], (where, [w.error for w in failed])
    assert "something went wrong" not in screen_text(pilot), (where, screen_text(pilot))


@pytest.mark.parametrize("dataset", list(DATASETS))
async def test_every_key_on_every_screen_leaves_the_app_alive(dsn: str, make_app, dataset: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        DATASETS[dataset](conn)
    app = make_app(dsn, as_of=None) if dataset == "demo" else make_app(dsn)
    pressed, walked = 0, set()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        for opener in SCREENS:
            await _back_to_main(pilot)
            if opener:
                await pilot.press(opener)
                await settle(pilot)
            _fine(pilot, f"opening {opener!r}")
            screen = type(app.screen)
            if screen in walked:
                continue  # it did not open here (the empty database, no archived row): said by a toast
            walked.add(screen)
            keys = sorted({k for k in app.active_bindings if k not in LEAVE})
            for key in keys:
                if type(app.screen) is not screen:  # the last key went elsewhere: open this screen again
                    await _back_to_main(pilot)
                    if opener:
                        await pilot.press(opener)
                        await settle(pilot)
                    if type(app.screen) is not screen:
                        break  # it opens only in some states (a marked row, an archived one)
                await pilot.press(key)
                await settle(pilot)
                pressed += 1
                _fine(pilot, f"{opener or 'main'} then {key}")
    assert pressed > (30 if dataset == "empty" else 100), pressed
