"""Register an unregistered table: source and kind prefilled from what its name says."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui.actions import Failed, Forms
from tui.model import Backup, KindChoice
from tui.widgets.text import error_text, literal


class AdoptModal(ModalScreen[str | None]):
    """Dismisses with the registered name, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="adopt-cancel", tooltip="cancel: nothing is registered")
    ]

    def __init__(self, forms: Forms, backup: Backup, kinds: list[KindChoice]) -> None:
        super().__init__()
        self.forms, self.backup, self.kinds = forms, backup, kinds

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble("Register ", literal(self.backup.backup_table_name)), classes="dialog-title")
            yield Label("Source table (inferred from the name where it says)")
            yield Input(self.backup.original_table_name or "", compact=True, id="source")
            yield Label("Reason")
            yield Input("adopted by backup-tui", compact=True, id="reason")
            yield Label("Kind")
            yield Select(
                [(literal(f"{c.kind} — {c.words}"), c.kind) for c in self.kinds],
                value="manual",
                allow_blank=False,
                compact=True,
                id="kind",
            )
            yield Static("", id="adopt-status", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label="Register", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#source", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        source = self.query_one("#source", Input).value.strip() or None
        reason = self.query_one("#reason", Input).value.strip() or None
        self._adopt(source, str(self.query_one("#kind", Select).value), reason)

    @work(thread=True, exit_on_error=False, exclusive=True, group="adopt")
    def _adopt(self, source: str | None, kind: str, reason: str | None) -> None:
        try:
            self.forms.adopt(self.backup.backup_table_name, source, kind, reason)
        except Failed as exc:
            self.app.call_from_thread(self.query_one("#adopt-status", Static).update, literal(error_text(exc)))
            return
        self.app.call_from_thread(self.dismiss, self.backup.backup_table_name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
