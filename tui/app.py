"""The App: one main screen over a Database; quits cleanly, also when the terminal goes away.

One worker policy (harlequin's): every worker says exit_on_error=False, and one handler here turns
a worker's unexpected failure into a readable message (its traceback kept in a file for a bug
report) while the app keeps running. Quitting never waits: a worker stuck on the network has its
connection cut (tui.db.interrupt_all). A crash that does happen exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from tui.config import Config, config_file, load_config, state_dir
from tui.db import Database, interrupt_all
from tui.format import printable
from tui.loading import Prefetch, release
from tui.model import FleetTarget
from tui.screens.help import HelpScreen
from tui.screens.inventory import InventoryScreen, OpenFleet
from tui.screens.listing_screen import ListingScreen

_ON_HANG_UP: list[Callable[[], object]] = []
_RUNNING = threading.Event()  # run() is running the app for a real terminal (not a test's Pilot)
_RETURNED = threading.Event()  # app.run() came back: the process is leaving the normal way
QUIT_WITHIN = 2.0  # seconds from `q` to the process gone, whatever is still running


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
        # Ctrl-C quits too, as in any terminal program (Textual's default only offers a hint).
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c", tooltip="quit"),
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
        # The user's keys (config.toml [keys]: binding id = keys), over every screen's bindings; an
        # unknown id, or a key another binding of the same screen has, is refused in one line.
        keymap, problems = checked_keymap(config.keys, config_file())
        self.config_problems.extend(problems)
        self.set_keymap(keymap)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            # While a list's filter is typed, its keys are handled here, in the order they arrive
            # and before any binding (tui/screens/listing_screen.py says why).
            screen = self.screen
            if isinstance(screen, ListingScreen) and screen.filtering and screen.filter_key(event):
                return
            # Every binding runs here, in the order the keys arrive. Textual runs a priority binding
            # at once but hands the others to the focused widget's queue, so keys arriving in one
            # read (SSH, a paste, tmux) were reordered: `*d` opened the drop dialog before `*` had
            # marked anything, and the fleet's `Down Enter` opened the row the cursor had left.
            # Text typed into a field is not a binding: it goes its usual way.
            if not isinstance(self.focused, (Input, TextArea)) and (
                await self._check_bindings(event.key, priority=True)
                or await self._check_bindings(event.key, priority=False)
            ):
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
        self.leave(0)

    def leave(self, code: int) -> None:
        """Exit now: waits on the server are cut (every write is one transaction: the server rolls
        an unfinished one back), and should anything else hold the process, it goes anyway."""
        interrupt_all()

        def last_resort() -> None:
            if not _RETURNED.is_set():
                os._exit(code)

        if _RUNNING.is_set():  # the process is ours to end (never a test runner's)
            timer = threading.Timer(QUIT_WITHIN, last_resort)
            timer.daemon = True
            timer.start()
        self.exit(code)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker's unexpected failure (every expected one is a message its screen words): said
        in one line, its traceback kept for a bug report; the app goes on."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        where = _keep_traceback(error)
        self.notify(
            f"{type(error).__name__}: {error}" + (f" (details in {where})" if where else ""),
            title="something went wrong; the app goes on",
            severity="error",
            timeout=20,
        )

    def on_unmount(self) -> None:
        self.database.close()
        release()


def _screens_bindings() -> dict[str, list[Binding]]:
    """Every screen's and modal's bindings (with the app's, which every screen has), by screen."""
    from tui.modals.adopt import AdoptModal
    from tui.modals.confirm import ConfirmModal
    from tui.modals.create import CreateBackupModal
    from tui.modals.drop import DropModal
    from tui.modals.hold import HoldModal
    from tui.modals.review import ReviewModal
    from tui.modals.schedule import ScheduleModal
    from tui.screens.check import CheckScreen
    from tui.screens.details import DetailsScreen
    from tui.screens.diff import DiffScreen
    from tui.screens.fleet import FleetScreen
    from tui.screens.prune import PruneScreen
    from tui.screens.schedules import SchedulesScreen
    from tui.screens.sources import SourcesScreen

    screens = [
        InventoryScreen, SourcesScreen, DetailsScreen, DiffScreen, CheckScreen, PruneScreen, SchedulesScreen,
        FleetScreen, HelpScreen, AdoptModal, ConfirmModal, CreateBackupModal, DropModal, ReviewModal, ScheduleModal,
        HoldModal,
    ]  # fmt: skip
    found: dict[str, list[Binding]] = {}
    for screen in screens:
        bindings: list[Binding] = []
        for cls in reversed(screen.__mro__):  # a subclass's BINDINGS add to its parents'
            bindings.extend(b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding))
        bindings.extend(b for b in BackupApp.BINDINGS if isinstance(b, Binding))
        found[screen.__name__] = bindings
    return found


def checked_keymap(keymap: dict[str, str], source: Path) -> tuple[dict[str, str], list[str]]:
    """The user's [keys] that can be applied, and one line for each that cannot: an id no binding
    has, or keys that another binding of some screen answers to already (drop = "s" would take
    sort-by-size away silently)."""
    screens = _screens_bindings()
    known = {b.id for bindings in screens.values() for b in bindings if b.id}
    problems, kept = [], {}
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            problems.append(
                f"{source}: [keys] {binding_id} is not a binding's id (the help screen lists them); ignored"
            )
            continue
        wanted = {k.strip() for k in keys.split(",") if k.strip()}
        clash = None
        for screen, bindings in screens.items():
            if not any(b.id == binding_id for b in bindings):
                continue
            for other in bindings:
                if other.id == binding_id:
                    continue
                theirs = keymap.get(other.id, other.key) if other.id else other.key
                common = wanted & {k.strip() for k in theirs.split(",")}
                if common:
                    clash = f"{', '.join(sorted(common))} is already {other.id or other.action}'s on {screen}"
                    break
            if clash:
                break
        if clash:
            problems.append(f'{source}: [keys] {binding_id} = "{keys}": {clash}; ignored')
        else:
            kept[binding_id] = keys
    return kept, problems


def _keep_traceback(error: BaseException) -> Path | None:
    """Append the error's traceback to the state directory's errors.log; where, or None."""
    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "errors.log"
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(timezone.utc).isoformat()}\n")
            log.write("".join(traceback.format_exception(error)))
        return path
    except OSError:
        return None


def exit_code(app: BackupApp) -> int:
    """The process's exit status: what the app exited with; non-zero when it crashed (Textual sets
    return_code 1 and keeps no return value), never 0 for a crash."""
    if app.return_code:
        return app.return_code
    value = app.return_value
    return value if isinstance(value, int) else 0


def run(
    prefetch: Prefetch, on_hang_up: Callable[[], object] | None = None, fleet: list[FleetTarget] | None = None
) -> int:
    """Run the TUI until the user quits; returns the exit code. `on_hang_up` runs if the
    terminal goes away (the normal exit path is skipped then)."""
    if on_hang_up is not None:
        _ON_HANG_UP.append(on_hang_up)
    app = BackupApp(prefetch.database, prefetch, fleet=fleet)
    _RUNNING.set()
    try:
        app.run()
    finally:
        _RETURNED.set()
    return exit_code(app)
