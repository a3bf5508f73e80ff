"""Every screen, modal, toast and table shows text from the database literally (#13.5): markup is
text, escapes are visible, nothing crashes the app and nothing reaches the terminal raw."""

from __future__ import annotations

import psycopg
import pytest

from tests.app.helpers import main_screen, screen_text, settle
from tests.hostile import ESCAPE_TABLE, KIND, MARKUP_TABLE, STRAY, seed_hostile
from tui.format import printable

SIZE = (120, 40)


@pytest.fixture
def hostile_dsn(dsn: str) -> tuple[str, dict[str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        names = seed_hostile(conn)
    return dsn, names


async def _goto(pilot, name: str) -> None:
    screen = main_screen(pilot)
    await pilot.press("home")
    for _ in range(len(screen.listing.visible)):
        if screen.table.current.backup_table_name == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name!r} is not in the list")


def _shown(pilot) -> str:
    return screen_text(pilot)


async def test_every_screen_shows_hostile_text_literally(hostile_dsn, make_app) -> None:
    from tui.modals.adopt import AdoptModal
    from tui.modals.create import CreateBackupModal
    from tui.modals.drop import DropModal
    from tui.modals.review import ReviewModal
    from tui.screens.check import CheckScreen
    from tui.screens.details import DetailsScreen
    from tui.screens.help import HelpScreen
    from tui.screens.prune import PruneScreen

    dsn, names = hostile_dsn
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        text = _shown(pilot)
        assert MARKUP_TABLE in text and printable(ESCAPE_TABLE)[:14] in text
        assert "\x1b" not in text and "\u202e" not in text

        await _goto(pilot, names["markup"])
        await pilot.press("enter")  # details
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        text = _shown(pilot)
        assert "a[1] and b[/2]" in text and "\\x1b]0;pwned\\x07" in text and KIND in text
        await pilot.press("escape")

        await pilot.press("d")  # drop modal
        await settle(pilot)
        assert isinstance(app.screen, DropModal) and MARKUP_TABLE in _shown(pilot)
        await pilot.press("escape")

        await _goto(pilot, STRAY)
        await pilot.press("R")  # register modal
        await settle(pilot)
        assert isinstance(app.screen, AdoptModal) and STRAY in _shown(pilot)
        await pilot.press("escape")

        await pilot.press("c")  # create modal: a kind with brackets in the select, a table in the suggestions
        await settle(pilot)
        assert isinstance(app.screen, CreateBackupModal) and MARKUP_TABLE in _shown(pilot)
        await pilot.press(*MARKUP_TABLE, "tab", *"again [/]", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, CreateBackupModal)
        assert f"created {MARKUP_TABLE}_backup_" in _shown(pilot)  # the toast

        await pilot.press("slash", *"[/", "enter")  # a filter that looks like markup
        await settle(pilot)
        assert "/ [/" in _shown(pilot)  # the filter line, literally
        await pilot.press("escape")

        await pilot.press("p")  # prune preview, and the review modal on a due review
        await settle(pilot)
        assert isinstance(app.screen, PruneScreen)
        screen = app.screen
        while screen.table.current.backup_table_name != names["markup"]:
            await pilot.press("down")
        assert f"{KIND}, 3 days old" in _shown(pilot)  # the policy reason names the kind
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ReviewModal) and MARKUP_TABLE in _shown(pilot)
        await pilot.press(*"looked at [/x] and [b]", "enter")
        await settle(pilot)
        assert "marked reviewed" in _shown(pilot)
        await pilot.press("escape", "exclamation_mark")  # check: the stray table by name
        await settle(pilot)
        assert isinstance(app.screen, CheckScreen) and STRAY in _shown(pilot)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
    assert app.return_value is None  # it never exited on its own


async def test_a_server_error_that_looks_like_markup_is_shown_as_text(hostile_dsn, make_app) -> None:
    dsn, names = hostile_dsn
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"[/nope]", "tab", *"why", "enter")
        await settle(pilot)
        assert 'table public."[/nope]" does not exist' in _shown(pilot)
