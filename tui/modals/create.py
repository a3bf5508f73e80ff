"""`c`: back up a table. Runs backup.create_table_backup in a worker; cancel really cancels it."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tui import format as fmt
from tui.actions import Failed, Forms
from tui.model import KindChoice, TableEstimate, qualified_source
from tui.widgets.text import error_text, literal


def _estimate(size: int, rows: float) -> str:
    """'~1.5 MiB, ~20,000 rows' from the planner's statistics; they are missing before ANALYZE."""
    if rows < 0:
        return "size not known yet (never analyzed)"
    return f"~{fmt.size(size)}, ~{fmt.count(int(rows))} rows"


class CreateBackupModal(ModalScreen[str | None]):
    """Dismisses with the new backup's name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="create-cancel", tooltip="cancel; while copying: stop")
    ]

    def __init__(self, forms: Forms, tables: list[TableEstimate], kinds: list[KindChoice]) -> None:
        super().__init__()
        self.forms = forms
        self.tables = {t.typed: t for t in tables}
        self.kinds = kinds
        self.running = False
        self._started = 0.0
        self._ticker: Timer | None = None
        self._guide = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="create-dialog"):
            yield Static("Back up a table", classes="dialog-title")
            yield Label("Source table")
            yield Input(
                compact=True,
                placeholder="table name (schema.table outside public)",
                id="table",
                suggester=SuggestFromList(sorted(self.tables, key=lambda n: (len(n), n)), case_sensitive=True),
            )
            yield OptionList(id="suggestions")
            yield Label("Reason (required)")
            yield Input(compact=True, placeholder="why this backup exists", id="reason")
            yield Static("", id="reason-error", classes="error-text")
            yield Label("Kind")
            yield Select(
                [(literal(f"{c.kind} — {c.words}"), c.kind) for c in self.kinds],
                compact=True,
                value="manual" if any(c.kind == "manual" for c in self.kinds) else Select.BLANK,
                allow_blank=False,
                id="kind",
            )
            yield Static("", id="create-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Cancel", id="cancel")
                yield Button(compact=True, label="Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#suggestions", OptionList).can_focus = False
        self._show_suggestions("")
        self.query_one("#table", Input).focus()

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after "c" can arrive before focus reaches the first field: they are
        # the table's name all the same.
        if self.focused is None and not self.running and event.is_printable and event.character:
            box = self.query_one("#table", Input)
            box.insert_text_at_cursor(event.character)
            box.focus()
            event.stop()
            event.prevent_default()

    # -- suggestions --------------------------------------------------------------------
    @on(Input.Changed, "#table")
    def _table_changed(self, event: Input.Changed) -> None:
        self._show_suggestions(event.value.strip())

    def _show_suggestions(self, typed: str) -> None:
        needle = typed.casefold()
        # Names that start with what was typed first, the shortest (the closest completion) first:
        # "ord" offers orders before order_items, and tab takes it.
        matches = sorted(
            (name for name in self.tables if needle in name.casefold()),
            key=lambda name: (not name.casefold().startswith(needle), len(name), name),
        )[:5]
        options = self.query_one("#suggestions", OptionList)
        options.clear_options()
        for name in matches:
            known = self.tables[name]
            label = Text.assemble(literal(name, "bold"), "  ", _estimate(known.size_bytes, known.rows), style="")
            options.add_option(Option(label, id=name))
        options.display = bool(matches) and typed not in self.tables

    @on(Input.Blurred, "#table")
    def _accept_suggestion(self) -> None:
        """tab (or a click) away from a partly typed name takes the suggestion shown first (or
        the one highlighted): 'cust' + tab is 'customers', as → takes the inline completion."""
        box = self.query_one("#table", Input)
        typed = box.value.strip()
        if not typed or typed in self.tables or self.running:
            return
        options = self.query_one("#suggestions", OptionList)
        if not options.display or options.option_count == 0:
            return
        index = options.highlighted if options.highlighted is not None else 0
        box.value = options.get_option_at_index(index).id or typed

    @on(OptionList.OptionSelected, "#suggestions")
    def _suggestion_picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#table", Input).value = event.option.id or ""
        self.query_one("#reason", Input).focus()

    # -- submit ----------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _target(self) -> tuple[str, str]:
        """(schema, table) for what was typed: a known table, else public (or schema.table)."""
        typed = self.query_one("#table", Input).value.strip()
        if typed in self.tables:
            known = self.tables[typed]
            return known.schema, known.name
        if "." in typed and typed.split(".", 1)[0] and not typed.startswith('"'):
            schema, name = typed.split(".", 1)
            return schema, name
        return "public", typed

    def _submit(self) -> None:
        if self.running:
            return
        schema, table = self._target()
        reason = self.query_one("#reason", Input).value.strip()
        error = self.query_one("#reason-error", Static)
        if not table:
            self._status("Type the table to back up.", error=True)
            self.query_one("#table", Input).focus()
            return
        if not reason:
            error.update(literal("A reason is required: say why this backup exists."))
            self.query_one("#reason", Input).focus()
            return
        error.update("")
        kind = self.query_one("#kind", Select).value
        known = self.tables.get(qualified_source(schema, table))
        self._guide = _estimate(known.size_bytes, known.rows) if known else ""
        self._set_running(True)
        self._create(table, reason, str(kind), schema)

    def _set_running(self, running: bool) -> None:
        self.running = running
        for widget in self.query("Input, Select"):
            widget.disabled = running
        self.query_one("#create", Button).disabled = running
        if running:
            self._started = time.monotonic()
            self._tick()
            self._ticker = self.set_interval(0.5, self._tick)
            self.query_one("#cancel", Button).focus()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        elapsed = int(time.monotonic() - self._started)
        guide = f" ({self._guide})" if self._guide else ""
        # CREATE TABLE AS reports no progress (pg_stat_progress_copy does not cover it), so the
        # honest figure is the time spent against the size of what is being copied.
        self._status(f"copying{guide}… {elapsed // 60}:{elapsed % 60:02d} elapsed — Cancel stops it")

    def _status(self, message: str, error: bool = False) -> None:
        status = self.query_one("#create-status", Static)
        status.set_class(error, "error-text")
        status.update(literal(message))

    @work(thread=True, exit_on_error=False, exclusive=True, group="create")
    def _create(self, table: str, reason: str, kind: str, schema: str) -> None:
        try:
            name = self.forms.create(table, reason, kind, schema)
        except Failed as exc:
            self.app.call_from_thread(self._failed, error_text(exc))
            return
        self.app.call_from_thread(self.dismiss, name)

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self._status(message, error=True)
        self.query_one("#table", Input).focus()

    def action_cancel(self) -> None:
        if self.running:
            # The server aborts the CREATE TABLE AS and rolls its transaction back: nothing stays.
            self.forms.cancel()
            self._status("cancelling…")
            return
        self.dismiss(None)
