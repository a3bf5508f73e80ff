"""The App: one main screen over a Database; quits cleanly, also when the terminal goes away."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.widgets import Input

from tui.config import Config, config_file, load_config
from tui.db import Database
from tui.format import printable
from tui.loading import Prefetch, release
from tui.model import FleetTarget
from tui.screens.help import HelpScreen
from tui.screens.inventory import InventoryScreen, OpenFleet
from tui.screens.listing_screen import ListingScreen

_ON_HANG_UP: list[Callable[[], object]] = []


def _hang_up() -> None:
    """The terminal is gone: there is nothing to restore, and a graceful shutdown can block for
    ever writing to it (seen with Textual's writer thread). Run the registered clean-ups (the
    demo's embedded server) and exit now; the server rolls back any transaction in flight when
    the connection drops, and every write is one transaction."""
    for cleanup in _ON_HANG_UP:
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(129)


class BackupApp(App[int]):
    TITLE = "backup-tui"
    CSS_PATH = "app.tcss"
    # Every action has a key in the footer; the palette would only take footer space at 80 columns.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="quit"),
        Binding("question_mark", "help", "Help", id="help", priority=True, tooltip="this help"),
        # priority: focus moves before the keys typed after tab are delivered, so a form filled
        # in one burst (a fast typist, a paste, tmux send-keys) puts each value in its own field.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="focus-next"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True, id="focus-previous"),
    ]

    def __init__(
        self,
        database: Database,
        prefetch: Prefetch | None = None,
        config: Config | None = None,
        fleet: list[FleetTarget] | None = None,
    ) -> None:
        super().__init__()
        self.database = database
        self.fleet = fleet  # start on the fleet screen (backup-tui fleet --tui)
        self.prefetch = prefetch or Prefetch(database)
        if config is None:
            config, self.config_problems = load_config()
        else:
            self.config_problems = []
        self.config = config
        # The user's keys (config.toml [keys]: binding id = keys), over every screen's bindings.
        self.set_keymap(config.keys)

    async def on_event(self, event: events.Event) -> None:
        # While a list's filter is typed, its keys are handled here, in the order they arrive and
        # before any binding (tui/screens/listing_screen.py says why).
        if isinstance(event, events.Key) and not event.is_forwarded:
            screen = self.screen
            if isinstance(screen, ListingScreen) and screen.filtering and screen.filter_key(event):
                return
        await super().on_event(event)

    def on_mount(self) -> None:
        if self.config.theme:
            if self.config.theme in self.available_themes:
                self.theme = self.config.theme
            else:
                problem = f"{config_file()}: [ui] theme {self.config.theme!r} is not a theme; ignored"
                self.config_problems.append(problem)
        for problem in self.config_problems:
            self.notify(problem, title="config", severity="warning", timeout=10)
        # SSH gone: SIGHUP. Leave at once rather than linger as an orphan. (Not possible off the
        # main thread, as in some test runners, or on platforms without SIGHUP.)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _hang_up)
        if self.fleet:
            from tui.screens.fleet import FleetScreen

            self.push_screen(FleetScreen(self.fleet, self.database.settings))
        else:
            self.push_screen(InventoryScreen(self.database, self.prefetch))

    def on_open_fleet(self, message: OpenFleet) -> None:
        from tui.screens.fleet import FleetScreen

        self.push_screen(FleetScreen(message.targets, message.settings))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Toasts show their text literally: messages carry names and server words (never markup)."""
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "?" is a priority key, but typed into a field it is text ("why?"), not a request for help.
        return not (action == "help" and isinstance(self.focused, Input))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        self.database.close()
        release()


def run(
    prefetch: Prefetch, on_hang_up: Callable[[], object] | None = None, fleet: list[FleetTarget] | None = None
) -> int:
    """Run the TUI until the user quits; returns the exit code. `on_hang_up` runs if the
    terminal goes away (the normal exit path is skipped then)."""
    if on_hang_up is not None:
        _ON_HANG_UP.append(on_hang_up)
    app = BackupApp(prefetch.database, prefetch, fleet=fleet)
    code = app.run()
    return code if isinstance(code, int) else 0
