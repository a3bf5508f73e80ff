"""`a` / `e` on the schedules screen: a schedule's table, kind, cron (with its next runs, live) and
reason. Writes through backup.add_schedule / update_schedule, which check what a person gets wrong."""

from __future__ import annotations

from datetime import timezone
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static

from tui.actions import Failed, Forms, cadence_warning
from tui.model import KindChoice, Schedule
from tui.widgets.text import error_text, literal


class ScheduleModal(ModalScreen[int | None]):
    """Dismisses with the schedule's id once saved, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="schedule-cancel", tooltip="cancel: nothing is saved")
    ]

    class Previewed(Message):
        """The cron field's words and next runs (or why it does not parse), from a worker."""

        def __init__(self, cron: str, text: Text) -> None:
            super().__init__()
            self.cron, self.text = cron, text

    class Saved(Message):
        def __init__(self, schedule_id: int) -> None:
            super().__init__()
            self.schedule_id = schedule_id

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(
        self,
        forms: Forms,
        tables: list[str],
        kinds: list[KindChoice],
        editing: Schedule | None = None,
    ) -> None:
        super().__init__()
        self.forms, self.tables, self.kinds, self.editing = forms, tables, kinds, editing
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        editing = self.editing
        with Vertical(classes="dialog", id="schedule-dialog"):
            title = f"Edit schedule {editing.id}" if editing else "Schedule backups of a table"
            yield Static(title, classes="dialog-title")
            yield Label("Table")
            yield Input(
                compact=True,
                value=editing.source if editing else "",
                placeholder="table (schema.table outside public)",
                id="table",
                suggester=SuggestFromList(sorted(self.tables), case_sensitive=True),
                disabled=editing is not None,
            )
            yield Label("Kind (its retention applies to the backups)")
            kinds = [c.kind for c in self.kinds]
            default = editing.backup_kind if editing else ("daily" if "daily" in kinds else kinds[0] if kinds else None)
            yield Select(
                [(literal(f"{c.kind} — {c.words}"), c.kind) for c in self.kinds],
                compact=True,
                value=default if default is not None else Select.BLANK,
                allow_blank=False,
                id="kind",
            )
            yield Label("When (cron, UTC): minute hour day-of-month month day-of-week")
            yield Input(compact=True, value=editing.cron if editing else "0 2 * * *", id="cron")
            yield Static("", id="cron-preview")
            yield Label("Reason ({kind}, {table} and {date} are filled in)")
            reason = editing.reason if editing else "scheduled {kind} backup of {table}"
            yield Input(compact=True, value=reason, id="reason")
            yield Static("", id="schedule-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label="Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#cron" if self.editing else "#table", Input).focus()
        self._preview(self.query_one("#cron", Input).value, self._kind())

    def _kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._preview(self.query_one("#cron", Input).value, self._kind())

    @on(Input.Changed, "#cron")
    def _cron_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        value, kind = event.value, self._kind()
        self._debounce = self.set_timer(0.15, lambda: self._preview(value, kind))

    @work(thread=True, exit_on_error=False, exclusive=True, group="cron-preview")
    def _preview(self, cron: str, kind: str) -> None:
        try:
            words, upcoming = self.forms.cron_preview(cron)
            text = Text.assemble((words, "bold"), "\nnext: ")
            text.append(", ".join(t.astimezone(timezone.utc).strftime("%a %Y-%m-%d %H:%M") for t in upcoming))
            warning = cadence_warning(kind, upcoming)
            if warning:
                text.append("\n" + warning, "bold")
        except Failed as exc:
            text = literal(str(exc), "red")
        self.post_message(self.Previewed(cron, text))

    def on_schedule_modal_previewed(self, message: Previewed) -> None:
        if message.cron == self.query_one("#cron", Input).value:
            self.query_one("#cron-preview", Static).update(message.text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        table = self.query_one("#table", Input).value.strip()
        cron = self.query_one("#cron", Input).value.strip()
        if not table or not cron:
            self._status("A table and a cron expression are needed.")
            return
        schema, _, name = table.rpartition(".")
        kind = str(self.query_one("#kind", Select).value)
        reason = self.query_one("#reason", Input).value
        self.query_one("#save", Button).disabled = True
        self._write(schema or "public", name, kind, cron, reason)

    @work(thread=True, exit_on_error=False, exclusive=True, group="schedule-save")
    def _write(self, schema: str, table: str, kind: str, cron: str, reason: str) -> None:
        try:
            saved = self.forms.save_schedule(
                self.editing.id if self.editing is not None else None, table, kind, cron, reason, schema
            )
        except Failed as exc:
            self.post_message(self.Failed(error_text(exc)))
            return
        self.post_message(self.Saved(saved))

    def on_schedule_modal_saved(self, message: Saved) -> None:
        self.dismiss(message.schedule_id)

    def on_schedule_modal_failed(self, message: Failed) -> None:
        self.query_one("#save", Button).disabled = False
        self._status(message.error)

    def _status(self, message: str) -> None:
        self.query_one("#schedule-status", Static).update(literal(message, "red"))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
