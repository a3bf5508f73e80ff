"""`d` and `A`: drop (or archive) backups after a typed confirmation; each in its own
transaction, with progress, and a Stop that ends the run after (drop) or during (archive) the
backup in flight, undoing that one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, ProgressBar, Static

from tui import format as fmt
from tui.db import Database
from tui.model import Backup, ItemResult, Status, Transfer, WriteResult
from tui.widgets.text import literal

# (names, one result at a time, bytes/rows progress of the one in flight, stop) -> the result
Runner = Callable[[list[str], Callable[[ItemResult], None], Callable[[Transfer], None], threading.Event], WriteResult]


class DropModal(ModalScreen[WriteResult | None]):
    """Acts on exactly the backups it was given, whatever the inventory does meanwhile.

    Dismisses with the results once something ran, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="drop-cancel")]

    def __init__(
        self,
        database: Database,
        backups: Sequence[Backup],
        run: Runner | None = None,
        title: str = "Drop",
        done_verb: str = "dropped",
        action_label: str = "Drop",
        question: str | None = None,
    ) -> None:
        super().__init__()
        self.database = database
        self.backups = tuple(backups)  # a copy: a refresh underneath changes nothing here
        self._runner: Runner = run or (
            lambda names, progress, _transfer, stop: database.drop_many(names, progress, stop)
        )
        self._stop = threading.Event()
        self._title = title
        self._action_label = action_label
        self._question = question  # the whole question, instead of "<title> N backups, freeing X?"
        self._done_verb = done_verb
        self.result: WriteResult | None = None
        self.progressed: list[ItemResult] = []
        self.running = False
        self.done = False

    @property
    def expected(self) -> str:
        """What the user must type: the name for one backup, the count for several."""
        return self.backups[0].backup_table_name if len(self.backups) == 1 else str(len(self.backups))

    def compose(self) -> ComposeResult:
        total = sum(b.size_bytes or 0 for b in self.backups)
        one = len(self.backups) == 1
        title = self._question or (
            f"{self._title} {'this backup' if one else f'{len(self.backups)} backups'}, freeing {fmt.size(total)}?"
        )
        with Vertical(classes="dialog", id="drop-dialog"):
            yield Static(literal(title), classes="dialog-title")
            with VerticalScroll(id="drop-list"):
                yield Static(self._listing())
            prompt = "Type the backup's name to confirm:" if one else f"Type {len(self.backups)} to confirm:"
            yield Static(prompt, id="confirm-prompt")
            yield Input(compact=True, placeholder=self.expected, id="confirm")
            yield ProgressBar(total=len(self.backups), show_eta=False, id="drop-progress")
            yield Static("", id="drop-status")
            yield ProgressBar(total=1.0, show_eta=False, id="transfer-progress")
            yield Static("", id="transfer-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label=self._action_label, id="drop", variant="error", disabled=True)

    def _listing(self) -> Table:
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=True)
        table.add_column("backup", overflow="ellipsis", no_wrap=True, ratio=3)
        table.add_column("source", overflow="ellipsis", no_wrap=True, ratio=1)
        table.add_column("rows", justify="right", no_wrap=True)
        table.add_column("size", justify="right", no_wrap=True)
        table.add_column("age", justify="right", no_wrap=True)
        for b in self.backups:
            name = literal(b.backup_table_name)
            if b.status is Status.MISSING:
                name.append(" (missing: removes the stale row)", "italic")
            table.add_row(
                name,
                literal(fmt.text(b.source)),
                fmt.count(b.row_count),
                fmt.size(b.size_bytes),
                literal(fmt.text(b.age_words)),
            )
        return table

    def on_mount(self) -> None:
        self.query_one("#drop-progress", ProgressBar).display = False
        self.query_one("#transfer-progress", ProgressBar).display = False
        self.query_one("#transfer-status", Static).display = False
        # Focus is in the confirmation box: typing is the safeguard, and enter there does nothing
        # until the text matches, so the default action stays the safe one. (Focusing Cancel
        # instead would send a fast "name⏎" to Cancel before focus could move.)
        self.query_one("#confirm", Input).focus()

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after "d" can arrive before focus reaches the box (it moves on the next
        # tick): they come here instead, and belong in the box all the same.
        box = self.query_one("#confirm", Input)
        if box.has_focus or self.running or self.done:
            return
        if event.is_printable and event.character:
            box.insert_text_at_cursor(event.character)
        elif event.key == "enter":
            self._submitted()
        else:
            return
        event.stop()
        event.prevent_default()

    @on(Input.Changed, "#confirm")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#drop", Button).disabled = event.value.strip() != self.expected

    @on(Input.Submitted, "#confirm")
    def _submitted(self) -> None:
        if not self.query_one("#drop", Button).disabled:
            self._start()

    @on(Button.Pressed, "#drop")
    def _drop_pressed(self) -> None:
        if self.done:
            self.dismiss(self.result)
        else:
            self._start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _start(self) -> None:
        if self.running or self.done or self.query_one("#confirm", Input).value.strip() != self.expected:
            return
        self.running = True
        self.query_one("#confirm", Input).disabled = True
        self.query_one("#drop", Button).disabled = True
        self.query_one("#cancel", Button).label = "Stop"
        # The confirmation has served; its two lines go to the progress (80x24 must fit it all).
        self.query_one("#confirm-prompt", Static).display = False
        self.query_one("#confirm", Input).display = False
        # One backup: its transfer bar says it all; several: how many are done, too.
        self.query_one("#drop-progress", ProgressBar).display = len(self.backups) > 1
        self._run([b.backup_table_name for b in self.backups])

    @work(thread=True, exclusive=True, group="drop")
    def _run(self, names: list[str]) -> None:
        result = self._runner(
            names,
            lambda r: self.app.call_from_thread(self._progress, r),
            lambda t: self.app.call_from_thread(self._transfer, t),
            self._stop,
        )
        self.app.call_from_thread(self._finished, result)

    def _transfer(self, t: Transfer) -> None:
        if not self.is_attached:  # the app is closing under a running worker
            return
        bar = self.query_one("#transfer-progress", ProgressBar)
        status = self.query_one("#transfer-status", Static)
        bar.display = status.display = True
        if t.fraction is not None:
            bar.update(progress=t.fraction)
        rows = f"{t.rows:,}" + (f" of {t.total_rows:,}" if t.total_rows else "") + " rows"
        size = fmt.size(t.bytes) + (f" of {fmt.size(t.total_bytes)}" if t.total_bytes else "")
        status.update(Text.assemble((t.phase, "bold"), " ", literal(t.name), f"  ·  {rows}  ·  {size}"))

    def _progress(self, item: ItemResult) -> None:
        if not self.is_attached:
            return
        self.progressed.append(item)
        self.query_one("#drop-progress", ProgressBar).advance(1)
        verb = self._done_verb if item.ok else "failed"
        self.query_one("#drop-status", Static).update(Text.assemble(f"{verb} ", literal(item.name)))

    def _finished(self, result: WriteResult) -> None:
        if not self.is_attached:
            return
        self.running, self.done = False, True
        self.query_one("#transfer-progress", ProgressBar).display = False
        self.query_one("#transfer-status", Static).display = False
        self.query_one("#cancel", Button).display = False
        self.result = result
        text = Text(
            result.summary(self._done_verb, fmt.size(result.freed_bytes)),
            style="bold" if result.complete else "bold red",
        )
        for item in result.failed:
            text.append("\n  ")
            text.append(literal(f"{item.name}: {item.error}", "red"))
        if result.stopped is not None:
            text.append("\nstopped: ", "bold red")
            text.append(literal(result.stop_message, "bold red"))
        self.query_one("#drop-status", Static).update(text)
        close = self.query_one("#drop", Button)
        close.label = "Close"
        close.variant = "primary"
        close.disabled = False
        close.focus()

    def action_cancel(self) -> None:
        if self.running:
            # Stop: what is already done stays done; the backup in flight is undone (an archive
            # removes what it wrote) or, for a drop, finishes; the rest are not attempted.
            self._stop.set()
            self.query_one("#cancel", Button).disabled = True
            self.query_one("#drop-status", Static).update(Text("stopping…", "bold"))
            return
        self.dismiss(self.result if self.done else None)
