"""Driving the app the way a user does, and reading what is on screen."""

from __future__ import annotations

import contextlib

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from tui.screens.inventory import InventoryScreen


async def settle(pilot: Pilot) -> None:
    """Wait until every worker finished and the messages they posted were handled.

    A worker replaced by a newer one in its group (exclusive) counts as finished; a worker that
    failed raises here.
    """
    for _ in range(3):
        for worker in list(pilot.app.workers):
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()


def main_screen(pilot: Pilot) -> InventoryScreen:
    screen = pilot.app.screen_stack[1] if len(pilot.app.screen_stack) > 1 else pilot.app.screen
    assert isinstance(screen, InventoryScreen)
    return screen


def visible_names(pilot: Pilot) -> list[str]:
    return [b.backup_table_name for b in main_screen(pilot).listing.visible]


def screen_text(pilot: Pilot) -> str:
    """The characters on screen, line by line, as a terminal would show them (the top screen)."""
    strips = pilot.app.screen._compositor.render_strips(pilot.app.size)
    return "\n".join(strip.text.rstrip() for strip in strips)
