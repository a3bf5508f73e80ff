"""Acknowledge a review: a note is required; backup.mark_reviewed records who and when."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.widgets.text import literal


class ReviewModal(ModalScreen[str | None]):
    """Dismisses with the note, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="review-cancel", tooltip="cancel: nothing is recorded")
    ]

    def __init__(self, name: str, reason: str) -> None:
        super().__init__()
        self._name, self._reason = name, reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Mark as reviewed", classes="dialog-title")
            yield Static(Text.assemble(literal(self._name), "\n", literal(self._reason)), classes="dialog-body")
            yield Static("Note (required): what was checked, what was decided")
            yield Input(compact=True, placeholder="e.g. still needed for the Q3 audit", id="note")
            yield Static("", id="note-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label="Reviewed", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        note = self.query_one("#note", Input).value.strip()
        if not note:
            self.query_one("#note-error", Static).update("A note is required.")
            return
        self.dismiss(note)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
