"""`d`, `A`, `V` and the prune preview's `x`: confirm a job (tui.actions) and show its progress; each
backup in its own transaction, a word on whose lock a write is waiting for, and a Stop (escape,
ctrl+c) that cancels the statement in flight and ends the run.

The dialog says what the job would lose, in the job's words: critical backups, backups still inside
their retention, the newest backup of a source table, reviews due, and archived backups (dropping
one forgets its archive). Typing the name (one backup) or the count (several) confirms; the prompt
counts the ones at risk. The modal decides nothing about what the write does: the job does.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, ProgressBar, Static

from tui import format as fmt
from tui.actions import Job
from tui.config import remember_archive_target
from tui.model import Backup, ItemResult, Status, Transfer, WriteResult
from tui.widgets.text import literal


class BackupList:
    """The backups a dialog acts on, each with its whole name: two backups of a table differ only in
    their date, the end a cut name loses. A table when every name fits on its line with kind,
    status, size and age beside it; narrower, each backup on two lines: its name (folded if it must
    be), then the rest."""

    def __init__(self, backups: Sequence[Backup]) -> None:
        self.backups = backups

    def _facts(self, b: Backup) -> list[Text]:
        return [
            literal(fmt.text(b.backup_kind)),
            Text(str(b.status)),
            Text(fmt.size(b.size_bytes)),
            literal(fmt.text(b.age_words)),
        ]

    def _name(self, b: Backup) -> Text:
        name = literal(b.backup_table_name)
        if b.status is Status.MISSING:
            name.append(" (missing: removes the stale row)", "italic")
        return name

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = list(zip(*([self._name(b), *self._facts(b)] for b in self.backups), strict=True))
        needed = sum(max(t.cell_len for t in column) for column in columns) + 2 * (len(columns) - 1)
        if needed <= options.max_width:
            table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=True)
            table.add_column("backup", overflow="fold", ratio=1)
            table.add_column("kind", overflow="ellipsis", no_wrap=True)
            table.add_column("status", no_wrap=True)
            table.add_column("size", justify="right", no_wrap=True)
            table.add_column("age", justify="right", no_wrap=True)
            for b in self.backups:
                table.add_row(self._name(b), *self._facts(b))
            yield table
            return
        for b in self.backups:
            name = self._name(b)
            name.overflow = "fold"
            yield name
            yield Text.assemble("  ", Text(" · ").join(self._facts(b)))


def is_local(target: str) -> bool:
    return not target.startswith("s3://")


class DropModal(ModalScreen[WriteResult | None]):
    """Runs exactly the job it was given, whatever the inventory does meanwhile.

    Dismisses with the result once something ran, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="drop-cancel", tooltip="cancel; while it runs: stop"),
        Binding("ctrl+c", "stop", "Stop", show=False, priority=True, id="drop-stop", tooltip="stop while it runs"),
    ]

    def __init__(self, job: Job, place: str | None = None) -> None:
        super().__init__()
        self.job = job
        self.place = place  # the database (ServerInfo.place) whose archive target is remembered
        self.backups = job.backups
        self.typed = job.typed  # destructive: type the name or the count; a verification: just press
        self.target = job.target  # archives: where to, editable in the dialog
        self._stop = threading.Event()
        self.result: WriteResult | None = None
        self.progressed: list[ItemResult] = []
        self.running = False
        self.done = False
        self._watch: Timer | None = None

    @property
    def expected(self) -> str:
        """What the user must type: the name for one backup, the count for several."""
        return self.job.expected

    def compose(self) -> ComposeResult:
        title = self.job.question()
        with Vertical(classes="dialog", id="drop-dialog"):
            yield Static(literal(title), classes="dialog-title")
            with VerticalScroll(id="drop-list"):
                yield Static(self._listing())
            yield Static(self._warnings(), id="drop-warnings", classes="warning-text")
            if self.target is not None:
                yield Static("Archive to (a directory, or s3://bucket/prefix):")
                yield Input(self.target, compact=True, id="target")
                yield Static(self._where(self.target), id="target-note", classes="warning-text")
            if self.typed:
                yield Static(self._prompt(), id="confirm-prompt")
                yield Input(compact=True, placeholder=literal(self.expected).plain, id="confirm")
            yield ProgressBar(total=len(self.backups), show_eta=False, id="drop-progress")
            yield Static("", id="drop-status")
            yield ProgressBar(total=1.0, show_eta=False, id="transfer-progress")
            yield Static("", id="transfer-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label=self.job.action_label, id="drop", variant="error", disabled=self.typed)

    def _listing(self) -> BackupList:
        return BackupList(self.backups)

    def _warnings(self) -> Text:
        text = Text()
        for note in self.job.notes():
            text.append_text(literal(note))
            text.append("\n")
        at_risk = self.job.risks()
        if at_risk:
            text.append("Careful: " + ("; ".join(at_risk)) + ".", "bold")
        return text

    def _prompt(self) -> str:
        return self.job.prompt()

    @staticmethod
    def _where(target: str) -> Text:
        if not is_local(target):
            return Text("")
        return literal(
            f"A directory on {socket.gethostname()}, the machine backup-tui runs on: over SSH that is this "
            "machine's disk (a bastion's?), not the database server's."
        )

    def on_mount(self) -> None:
        for button in self.query(Button):
            # No press animation: while it lasts (0.2 s) Textual ignores enter on the button, so a
            # quick "enter" on Close right after a fast run would be lost.
            button.active_effect_duration = 0
        self.query_one("#drop-progress", ProgressBar).display = False
        self.query_one("#transfer-progress", ProgressBar).display = False
        self.query_one("#transfer-status", Static).display = False
        self.query_one("#drop-status", Static).display = False  # its lines are the confirmation's until it runs
        self.query_one("#drop-warnings", Static).display = bool(self._warnings().plain)
        # Focus is in the confirmation box: typing is the safeguard, and enter there does nothing
        # until the text matches, so the default action stays the safe one. (Focusing Cancel
        # instead would send a fast "name⏎" to Cancel before focus could move.)
        if self.typed:
            self.query_one("#confirm", Input).focus()
        else:
            self.query_one("#drop", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after "d" can arrive before focus reaches the box (it moves on the next
        # tick): they come here instead, and belong in the box all the same.
        if not self.typed or self.focused is not None or self.running or self.done:
            return
        box = self.query_one("#confirm", Input)
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

    @on(Input.Changed, "#target")
    def _target_changed(self, event: Input.Changed) -> None:
        self.query_one("#target-note", Static).update(self._where(event.value.strip()))

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
        if self.running or self.done:
            return
        if self.typed and self.query_one("#confirm", Input).value.strip() != self.expected:
            return
        if self.target is not None:
            target = self.query_one("#target", Input).value.strip()
            if not target:
                self.query_one("#target-note", Static).update(Text("Say where to archive to.", "bold"))
                return
            self.target = self.job.target = target
            if self.place is not None:
                remember_archive_target(target, self.place)
            self.query_one("#target", Input).disabled = True
        self.running = True
        self.query_one("#drop-status", Static).display = True
        self.query_one("#drop", Button).disabled = True
        self.query_one("#cancel", Button).label = "Stop"
        if self.typed:
            # The confirmation has served; its two lines go to the progress (80x24 must fit it all).
            self.query_one("#confirm-prompt", Static).display = False
            self.query_one("#confirm", Input).display = False
        # One backup: its transfer bar says it all; several: how many are done, too.
        self.query_one("#drop-progress", ProgressBar).display = len(self.backups) > 1
        self._watch = self.set_interval(1.0, self._watch_locks)
        self._run()

    @work(thread=True, exit_on_error=False, exclusive=True, group="drop")
    def _run(self) -> None:
        result = self.job.run(
            lambda r: self.app.call_from_thread(self._progress, r),
            lambda t: self.app.call_from_thread(self._transfer, t),
            self._stop,
        )
        self.app.call_from_thread(self._finished, result)

    @work(thread=True, exit_on_error=False, exclusive=True, group="drop-locks")
    def _watch_locks(self) -> None:
        """While a write waits for a lock, say whose (from a second session: the first is busy)."""
        holder = self.job.lock_holder()
        if holder is not None:
            self.app.call_from_thread(self._waiting, holder)

    def _waiting(self, holder: str) -> None:
        if self.running and self.is_attached:
            self.query_one("#drop-status", Static).update(
                Text.assemble(("waiting for a lock ", "bold"), literal(holder), " — escape stops")
            )

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
        verb = self.job.verb if item.ok else "failed"
        self.query_one("#drop-status", Static).update(Text.assemble(f"{verb} ", literal(item.name)))

    def summary(self, result: WriteResult) -> str:
        return self.job.summary(result)

    def _finished(self, result: WriteResult) -> None:
        if self._watch is not None:
            self._watch.stop()
        if not self.is_attached:
            return
        self.running, self.done = False, True
        self.query_one("#transfer-progress", ProgressBar).display = False
        self.query_one("#transfer-status", Static).display = False
        self.query_one("#cancel", Button).display = False
        self.result = result
        text = Text(self.summary(result), style="bold" if result.complete else "bold red")
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

    def action_stop(self) -> None:
        """ctrl+c in a running dialog means Stop (and nothing, before it runs)."""
        if self.running:
            self.action_cancel()

    def action_cancel(self) -> None:
        if self.running:
            # Stop: what is already done stays done; the statement in flight is cancelled on the
            # server (a lock wait ends at once; an archive removes what it wrote); the rest are
            # not attempted.
            self._stop.set()
            self.job.cancel()
            self.query_one("#cancel", Button).disabled = True
            self.query_one("#drop-status", Static).update(Text("stopping…", "bold"))
            return
        self.dismiss(self.result if self.done else None)
