"""`h`: keep backups on purpose. A reason is required; an end date is optional (a hold that runs out
counts for nothing, and the policy applies again). backup.hold_backup records who, when and why."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.widgets.text import literal


class HoldModal(ModalScreen[tuple[str, str | None] | None]):
    """Dismisses with (reason, until or None), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="hold-cancel", tooltip="cancel: nothing is held")
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._names = names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            what = "this backup" if len(self._names) == 1 else f"{len(self._names)} backups"
            yield Static(f"Hold {what}: never deleted or archived until released", classes="dialog-title")
            yield Static(Text("\n").join(literal(n) for n in self._names[:8]), classes="dialog-body")
            yield Static("Reason (required): why it must be kept, and for whom")
            yield Input(compact=True, placeholder="e.g. legal hold, case 2026-114 (ask Dana)", id="reason")
            yield Static("Until (optional, YYYY-MM-DD): the hold ends then")
            yield Input(compact=True, placeholder="until released", id="until")
            yield Static("", id="hold-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label="Hold", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        until = self.query_one("#until", Input).value.strip() or None
        error = self.query_one("#hold-error", Static)
        if not reason:
            error.update("A reason is required.")
            self.query_one("#reason", Input).focus()
            return
        if until is not None:
            try:
                datetime.fromisoformat(until)
            except ValueError:
                error.update(literal(f"Not a date (YYYY-MM-DD): {until}"))
                self.query_one("#until", Input).focus()
                return
        self.dismiss((reason, until))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
