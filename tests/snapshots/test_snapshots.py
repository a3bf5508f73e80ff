"""What the main screens look like, pixel for pixel, at 80×24 and 120×40.

Data is deterministic (tests/fixtures.py: fixed names, sizes, dates and a frozen now). The
connection header names the server the suite happens to run on, so it is pinned here to one
label; everything else on screen comes from the real database.
"""

from __future__ import annotations

import pytest

from tests.app.helpers import settle
from tui.db import Database
from tui.db.database import FirstLook
from tui.model import ServerInfo

SIZES = [(80, 24), (120, 40)]
DIALOG_SIZES = [(60, 20), (80, 24), (120, 40)]  # dialogs with long names: whole at every width (#26)


@pytest.fixture(autouse=True)
def fixed_server_label(monkeypatch: pytest.MonkeyPatch) -> None:
    original, first_look = Database.server_info, Database.first_look

    def pin(real: ServerInfo) -> ServerInfo:
        return ServerInfo("postgres", "db.example", "5432", "app", "18.0", real.read_only)

    def pinned(self: Database) -> ServerInfo:
        return pin(original(self))

    def pinned_look(self: Database, rows_below: int = 0) -> FirstLook:
        info, state, count, rows = first_look(self, rows_below)
        return pin(info), state, count, rows

    def pinned_plan(self: Database) -> tuple[list, int | None]:
        rows, _ = plan_and_size(self)
        return rows, 16 * 1024 * 1024  # the database's size differs from one cluster to the next

    plan_and_size = Database.plan_and_size
    monkeypatch.setattr(Database, "server_info", pinned)
    monkeypatch.setattr(Database, "first_look", pinned_look)
    monkeypatch.setattr(Database, "plan_and_size", pinned_plan)
    monkeypatch.setattr(Database, "database_size", lambda self: 16 * 1024 * 1024)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, seeded_dsn: str, make_app, size) -> None:
    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_filtered_and_marked(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def filter_and_mark(pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "slash", "o", "r", "d", "enter")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=filter_and_mark)


def test_details_screen(snap_compare, seeded_dsn: str, make_app) -> None:
    async def open_details(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=(120, 40), run_before=open_details)


def test_empty_state(snap_compare, dsn: str, make_app) -> None:
    import psycopg

    from tui.db.schema import install

    with psycopg.connect(dsn, autocommit=True) as conn:
        install(conn)
    assert snap_compare(make_app(dsn), terminal_size=(80, 24), run_before=settle)


def test_install_prompt(snap_compare, dsn: str, make_app) -> None:
    assert snap_compare(make_app(dsn), terminal_size=(80, 24), run_before=settle)


def test_read_only(snap_compare, seeded_dsn: str, make_app) -> None:
    assert snap_compare(make_app(seeded_dsn, read_only=True), terminal_size=(80, 24), run_before=settle)


def test_help(snap_compare, seeded_dsn: str, make_app) -> None:
    async def open_help(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=(80, 24), run_before=open_help)


@pytest.mark.parametrize("size", DIALOG_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_create_modal(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def open_create(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"ord", "tab")
        await settle(pilot)  # the inline suggestion is computed in a worker

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=open_create)


@pytest.mark.parametrize("size", DIALOG_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_drop_modal_several(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def open_drop(pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "space", "d", "3")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=open_drop)


def test_drop_modal_one(snap_compare, seeded_dsn: str, make_app) -> None:
    async def open_drop(pilot) -> None:
        await settle(pilot)
        await pilot.press("d", *"orders_")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=(80, 24), run_before=open_drop)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_prune_preview(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def open_prune(pilot) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=open_prune)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_grouped_view(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def grouped(pilot) -> None:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=grouped)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_filter_words_and_filtered_totals(snap_compare, seeded_dsn: str, make_app, size) -> None:
    async def filtered(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"status:keep kind:d", "enter", "asterisk")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=filtered)


def test_not_connected(snap_compare, make_app) -> None:
    app = make_app("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_schedules_screen(snap_compare, seeded_dsn: str, make_app, size) -> None:
    import psycopg

    from tests.fixtures import seed_schedules_fixture

    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        seed_schedules_fixture(conn)

    async def schedules(pilot) -> None:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=schedules)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_diff_screen(snap_compare, seeded_dsn: str, make_app, size) -> None:
    """#27: D on the first backup (orders), after the live table changed: a key, deletes, adds,
    a changed value marked; hostile text literal."""
    import psycopg

    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE public.orders ADD PRIMARY KEY (id)")
        conn.execute("DELETE FROM public.orders WHERE id IN (1, 2)")
        conn.execute("UPDATE public.orders SET label = '[b]bold?[/b] \x1b[2J' WHERE id = 3")
        conn.execute("INSERT INTO public.orders VALUES (900001, 'new row')")

    async def open_diff(pilot) -> None:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)

    assert snap_compare(make_app(seeded_dsn), terminal_size=size, run_before=open_diff)
