"""`?` on every screen lists all of its keys (#24.6): 0.2 listed only bindings with a tooltip, so
the prune screen's x, v, r, q and the details and check screens' keys were missing."""

from __future__ import annotations

import pytest

from tests.app.helpers import screen_text, settle


@pytest.mark.parametrize(
    ("opener", "words"),
    [
        ("p", ["apply the plan", "acknowledge the review", "plan again"]),
        ("enter", ["count the backup's rows exactly", "stop the count"]),
        ("exclamation_mark", ["count every backup's rows exactly", "check again"]),
        ("S", ["add a schedule", "run the schedule now"]),
        ("g", ["show this table's backups"]),
    ],
)
async def test_help_lists_every_key_of_the_screen_beneath(
    seeded_dsn: str, make_app, opener: str, words: list[str]
) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press(opener)
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(pilot)
        assert all(w in text for w in words), text
