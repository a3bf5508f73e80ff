"""`D`: what changed since this backup, against its live table: the same report as `backup-tui
diff`, the changed values marked. The comparison runs on the server in a worker; `x` cancels it."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from tui.db import Database, DatabaseError
from tui.diff_report import report
from tui.model import DiffResult
from tui.widgets.text import error_text, literal

_STYLES = {"heading": "bold", "changed": "bold reverse", None: ""}


def report_text(result: DiffResult) -> Text:
    """The report's lines as Text: every piece literal, headings bold, changed values marked."""
    text = Text()
    for line in report(result):
        for piece, role in line:
            text.append_text(literal(piece, _STYLES[role]))
        text.append("\n")
    return text


class DiffScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="diff-back", tooltip="back (a comparison running is cancelled)"),
        Binding("x", "cancel_diff", "Cancel", id="diff-cancel", tooltip="stop the comparison"),
        Binding("r", "refresh", "Compare again", id="diff-refresh", tooltip="compare again"),
    ]

    def __init__(self, database: Database, name: str) -> None:
        super().__init__()
        self.database = database
        self.backup_name = name
        self.running = False
        self._started = 0.0
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Diff — what changed since ", "bold"), literal(self.backup_name, "bold"))
        yield Static(title, id="check-title")
        with VerticalScroll(id="check-body"):
            yield Static("", id="diff-report")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        if self.running:
            return
        self.running = True
        self._started = time.monotonic()
        self._ticker = self.set_interval(0.5, self._tick)
        self._tick()
        self._compare()

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        self.query_one("#diff-report", Static).update(
            Text(f"comparing on the server… {elapsed:.0f} s (x cancels)", style="dim")
        )

    @work(thread=True, exit_on_error=False, exclusive=True, group="diff")
    def _compare(self) -> None:
        try:
            result = self.database.diff(self.backup_name)
        except DatabaseError as exc:
            self.app.call_from_thread(self._done, literal(error_text(exc), "bold red"))
            return
        self.app.call_from_thread(self._done, report_text(result))

    def _done(self, text: Text) -> None:
        self.running = False
        if self._ticker is not None:
            self._ticker.stop()
        if self.is_attached:
            self.query_one("#diff-report", Static).update(text)

    def action_cancel_diff(self) -> None:
        if self.running:
            self.database.cancel()

    def action_back(self) -> None:
        if self.running:
            self.database.cancel()
        self.dismiss()
