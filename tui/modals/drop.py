"""`d`, `A`, `V` and the prune preview's `x`: act on backups after a confirmation; each in its own
transaction, with progress, a word on whose lock a write is waiting for, and a Stop (escape,
ctrl+c) that cancels the statement in flight and ends the run.

The dialog says what is about to be lost, in words: critical backups, backups still inside their
retention, the newest backup of a source table, reviews due, and archived backups (dropping one
forgets its archive: the files stay, backup-tui no longer knows about them). Typing the name (one
backup) or the count (several) confirms; the prompt counts the ones at risk.
"""

from __future__ import annotations

import socket
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
from textual.timer import Timer
from textual.widgets import Button, Input, ProgressBar, Static

from tui import format as fmt
from tui.config import remember_archive_target
from tui.db import Database, DatabaseError
from tui.model import Backup, ItemResult, Kind, Rule, Status, Transfer, WriteResult
from tui.widgets.text import literal

# (names, one result at a time, bytes/rows progress of the one in flight, stop[, target]) -> the result
Runner = Callable[..., WriteResult]


def risks(backups: Sequence[Backup]) -> list[str]:
    """What the user is about to lose that they may not mean to, one phrase each."""
    said = []
    for words, hit in (
        ("critical", lambda b: b.backup_kind is Kind.CRITICAL),
        ("still inside its retention", lambda b: b.status is Status.KEEP and b.rule is not Rule.NEWEST),
        ("the newest backup of its table", lambda b: b.rule is Rule.NEWEST),
        ("due for review, not for deletion", lambda b: b.status is Status.REVIEW),
        ("only in its archive (forgotten: the files stay)", lambda b: b.status is Status.ARCHIVED),
    ):
        count = sum(1 for b in backups if hit(b))
        if count:
            said.append(f"{count} {words}" if len(backups) > 1 else words)
    return said


def is_local(target: str) -> bool:
    return not target.startswith("s3://")


class DropModal(ModalScreen[WriteResult | None]):
    """Acts on exactly the backups it was given, whatever the inventory does meanwhile.

    Dismisses with the result once something ran, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="drop-cancel"),
        Binding("ctrl+c", "stop", "Stop", show=False, priority=True, id="drop-stop"),
    ]

    def __init__(
        self,
        database: Database,
        backups: Sequence[Backup],
        run: Runner | None = None,
        title: str = "Drop",
        done_verb: str = "dropped",
        action_label: str = "Drop",
        question: str | None = None,
        typed: bool = True,
        target: str | None = None,
    ) -> None:
        super().__init__()
        self.database = database
        self.backups = tuple(backups)  # a copy: a refresh underneath changes nothing here
        self._runner: Runner = run or self._drop_or_forget
        archived = sum(1 for b in self.backups if b.status is Status.ARCHIVED)
        if run is None and archived:
            done_verb = "forgot" if archived == len(self.backups) else "dropped or forgot"
        self._stop = threading.Event()
        self._title = title
        self._action_label = action_label
        self._question = question  # the whole question, instead of "<title> N backups, freeing X?"
        self._done_verb = done_verb
        self.typed = typed  # destructive: type the name or the count; a verification: just press
        self.target = target  # archives: where to, editable in the dialog
        self.result: WriteResult | None = None
        self.progressed: list[ItemResult] = []
        self.running = False
        self.done = False
        self._watch: Timer | None = None

    def _drop_or_forget(
        self, names: list[str], progress: Callable[[ItemResult], None], _transfer: object, stop: threading.Event
    ) -> WriteResult:
        """Drop the backups; an archived one is forgotten (its row goes, its files stay)."""
        archived = {b.backup_table_name for b in self.backups if b.status is Status.ARCHIVED}
        dropped = self.database.drop_many([n for n in names if n not in archived], progress, stop)
        if not archived:
            return dropped
        forgotten = self.database.forget_many([n for n in names if n in archived], progress, stop)
        return WriteResult(dropped.items + forgotten.items, dropped.stopped or forgotten.stopped)

    @property
    def expected(self) -> str:
        """What the user must type: the name for one backup, the count for several."""
        return self.backups[0].backup_table_name if len(self.backups) == 1 else str(len(self.backups))

    def compose(self) -> ComposeResult:
        total = sum(b.size_bytes or 0 for b in self.backups if b.status is not Status.ARCHIVED)
        one = len(self.backups) == 1
        title = self._question or (
            f"{self._title} {'this backup' if one else f'{len(self.backups)} backups'}, freeing {fmt.size(total)}?"
        )
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
                yield Button(compact=True, label=self._action_label, id="drop", variant="error", disabled=self.typed)

    def _listing(self) -> Table:
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=True)
        table.add_column("backup", overflow="ellipsis", no_wrap=True, ratio=3)
        table.add_column("kind", overflow="ellipsis", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("size", justify="right", no_wrap=True)
        table.add_column("age", justify="right", no_wrap=True)
        for b in self.backups:
            name = literal(b.backup_table_name)
            if b.status is Status.MISSING:
                name.append(" (missing: removes the stale row)", "italic")
            table.add_row(
                name,
                literal(fmt.text(b.backup_kind)),
                str(b.status),
                fmt.size(b.size_bytes),
                literal(fmt.text(b.age_words)),
            )
        return table

    def _warnings(self) -> Text:
        archived = [b for b in self.backups if b.status is Status.ARCHIVED]
        text = Text()
        if archived and self._runner == self._drop_or_forget:
            for b in archived:
                text.append_text(
                    literal(
                        f"{b.backup_table_name} exists only in its archive ({b.policy_reason}). Dropping it forgets "
                        "the archive: the files stay where they are, and backup-tui will no longer know about them "
                        "(adopt --from brings it back)."
                    )
                )
                text.append("\n")
        at_risk = risks(self.backups)
        if at_risk and self.typed:
            text.append("Careful: " + ("; ".join(at_risk)) + ".", "bold")
        return text

    def _prompt(self) -> str:
        at_risk = risks(self.backups)
        if len(self.backups) == 1:
            return "Type the backup's name to confirm" + (f" (it is {at_risk[0]}):" if at_risk else ":")
        count = sum(int(phrase.split()[0]) for phrase in at_risk)
        return f"Type {len(self.backups)} to confirm" + (f" ({count} at risk, above):" if at_risk else ":")

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
        options = {}
        if self.target is not None:
            target = self.query_one("#target", Input).value.strip()
            if not target:
                self.query_one("#target-note", Static).update(Text("Say where to archive to.", "bold"))
                return
            self.target = target
            remember_archive_target(target)
            options["target"] = target
            self.query_one("#target", Input).disabled = True
        self.running = True
        self.query_one("#drop", Button).disabled = True
        self.query_one("#cancel", Button).label = "Stop"
        if self.typed:
            # The confirmation has served; its two lines go to the progress (80x24 must fit it all).
            self.query_one("#confirm-prompt", Static).display = False
            self.query_one("#confirm", Input).display = False
        # One backup: its transfer bar says it all; several: how many are done, too.
        self.query_one("#drop-progress", ProgressBar).display = len(self.backups) > 1
        self._watch = self.set_interval(1.0, self._watch_locks)
        self._run([b.backup_table_name for b in self.backups], options)

    @work(thread=True, exit_on_error=False, exclusive=True, group="drop")
    def _run(self, names: list[str], options: dict[str, str]) -> None:
        result = self._runner(
            names,
            lambda r: self.app.call_from_thread(self._progress, r),
            lambda t: self.app.call_from_thread(self._transfer, t),
            self._stop,
            **options,
        )
        self.app.call_from_thread(self._finished, result)

    @work(thread=True, exit_on_error=False, exclusive=True, group="drop-locks")
    def _watch_locks(self) -> None:
        """While a write waits for a lock, say whose (from a second session: the first is busy)."""
        try:
            holder = self.database.lock_holder()
        except DatabaseError:
            return
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
        verb = self._done_verb if item.ok else "failed"
        self.query_one("#drop-status", Static).update(Text.assemble(f"{verb} ", literal(item.name)))

    def summary(self, result: WriteResult) -> str:
        """'archived 3, dropped 5, failed 0' when an archive and drops ran together."""
        archived = [i for i in result.done if i.archived is not None]
        if archived and len(archived) < len(result.done):
            freed = fmt.size(result.freed_bytes)
            line = f"archived {len(archived)}, dropped {len(result.done) - len(archived)}, freed {freed}"
            line += f", failed {len(result.failed)}"
            if result.not_attempted:
                line += f", not attempted {len(result.not_attempted)}"
            return line
        return result.summary(self._done_verb, fmt.size(result.freed_bytes))

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
            self.database.cancel()
            self.query_one("#cancel", Button).disabled = True
            self.query_one("#drop-status", Static).update(Text("stopping…", "bold"))
            return
        self.dismiss(self.result if self.done else None)
