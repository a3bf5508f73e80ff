"""A yes/no question; the safe answer has focus and escape means no. With `typed`, yes needs that
text typed first (removing a schedule: its id)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.widgets.text import literal


class ConfirmModal(ModalScreen[bool]):
    """Dismisses True only on an explicit yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", id="confirm-no", tooltip="no"),
        Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="yes"),
    ]

    def __init__(self, title: str, body: str, yes: str = "Yes", no: str = "No", typed: str | None = None) -> None:
        super().__init__()
        self._title, self._body, self._yes, self._no, self._typed = title, body, yes, no, typed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(self._title), classes="dialog-title")
            yield Static(literal(self._body), classes="dialog-body")
            if self._typed is not None:
                yield Static(literal(f"Type {self._typed} to confirm:"))
                yield Input(compact=True, id="typed")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label=self._no, id="no")
                typed = self._typed is not None
                yield Button(compact=True, label=self._yes, id="yes", variant="primary", disabled=typed)

    def on_mount(self) -> None:
        if self._typed is not None:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#no", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#yes", Button).disabled = event.value.strip() != self._typed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self._typed:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        if yes and self._typed is not None:
            return  # "y" is text here; yes needs the typed confirmation
        self.dismiss(yes)
