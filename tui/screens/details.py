"""`enter`: everything about one backup. The exact row count is a full scan, so it runs on demand."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui import format as fmt
from tui.db import Database, DatabaseError
from tui.model import Backup, BackupDetails, SchemaState, Status
from tui.screens.diff import DiffScreen
from tui.widgets.text import error_text, literal, literal_lines


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def manifest_table(manifest: dict[str, Any] | None) -> Table:
    """An archive's manifest as a table: each fact on its line, the columns as a table of their own,
    anything nested as indented JSON. Every value literal (a manifest is untrusted input)."""
    grid = _grid()
    for key, value in (manifest or {}).items():
        if key == "columns" and isinstance(value, list) and all(isinstance(c, dict) for c in value):
            columns = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
            columns.add_column("column")
            columns.add_column("type")
            for column in value:
                columns.add_row(literal(column.get("name")), literal(column.get("type")))
            grid.add_row(literal(key), columns)
        elif isinstance(value, (dict, list)):
            grid.add_row(literal(key), literal_lines(json.dumps(value, indent=2, ensure_ascii=False)))
        else:
            grid.add_row(literal(key), literal(fmt.text(value if value is None else str(value))))
    return grid


class DetailsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="details-back", tooltip="back to the backups"),
        Binding("c", "count", "Count rows", id="details-count", tooltip="count the backup's rows exactly"),
        Binding("x", "cancel_count", "Cancel count", id="details-cancel", tooltip="stop the count"),
        Binding("D", "diff", "Diff", id="details-diff", tooltip="what changed in the live table since this backup"),
    ]

    def __init__(self, backup: Backup, database: Database, state: SchemaState) -> None:
        super().__init__()
        self.backup = backup
        self.database = database
        self.state = state
        self._counting = False
        self._gone = False  # the table went (another session dropped it) after the list was read

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details"):
            yield Static(literal(self.backup.backup_table_name, "bold"), id="details-title")
            yield Static(self._metadata(), id="details-metadata")
            yield Static(self._rows_text(None), id="details-rows")
            yield Static(Text("loading…", style="dim"), id="details-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @property
    def countable(self) -> bool:
        """Whether there is a table to count: not for an archived backup, nor one whose table is gone."""
        return self.backup.status not in (Status.ARCHIVED, Status.MISSING) and not self._gone

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("count", "cancel_count", "diff"):
            return self.countable
        return True

    def _metadata(self) -> Table:
        b, grid = self.backup, _grid()
        created = fmt.date(b.backup_date)
        if b.backup_date and b.age_words:
            created = f"{created} UTC ({b.age_words} ago)"
        size = fmt.size(b.size_bytes)
        if b.locked_by is not None:
            size = f"~{size} (catalog estimate: locked by pid {b.locked_by})"
        elif not b.size_exact and b.size_bytes is not None:
            size = f"~{size} (catalog estimate)"
        for label, value in (
            ("status", b.status),
            ("why", fmt.text(b.policy_reason)),
            ("source table", fmt.text(b.source)),
            ("kind", fmt.text(b.backup_kind)),
            ("created", created),
            ("expires", fmt.date(b.expires_at)),
            ("reason", fmt.text(b.backup_reason)),
            ("created by", fmt.text(b.created_by)),
            ("requested by", fmt.text(b.requested_by)),
            ("id", fmt.text(str(b.id) if b.id else None)),
            ("total size", size),
        ):
            grid.add_row(label, literal(value))
        return grid

    def _rows_text(self, actual: int | None, note: str = "") -> Text:
        text = Text.assemble(("rows  ", "bold"), f"recorded {fmt.count(self.backup.row_count)}  ·  actual ")
        if actual is not None:
            text.append(fmt.count(actual), "bold")
            if self.backup.row_count is not None and actual != self.backup.row_count:
                text.append(f"  (differs by {actual - self.backup.row_count:+,})", "bold red")
        elif note or self.countable:
            text.append(literal(note or "press c to count (a full scan)", "dim"))
        elif self.backup.status is Status.ARCHIVED:
            text.append("in the archive (see below); V on the list verifies them", "dim")
        else:
            text.append("none: the table is gone", "dim")
        return text

    @work(thread=True, exit_on_error=False, exclusive=True, group="details")
    def load(self) -> None:
        if self.backup.status is Status.ARCHIVED:
            try:
                location, manifest = self.database.archive_entry(self.backup.backup_table_name)
            except DatabaseError as exc:
                self.app.call_from_thread(self._show_error, error_text(exc))
                return
            body = Table.grid(padding=(1, 0))
            body.add_column()
            body.add_row(Text.assemble(("archived to ", "bold"), literal(location)))
            body.add_row(Text("manifest", style="bold underline"))
            body.add_row(manifest_table(manifest))
            self.app.call_from_thread(self.query_one("#details-body", Static).update, body)
            return
        try:
            details = self.database.details(self.backup.backup_table_name, self.state)
        except DatabaseError as exc:
            self.app.call_from_thread(self._show_error, error_text(exc))
            return
        self.app.call_from_thread(self._show, details)

    def _show_error(self, message: str) -> None:
        self.query_one("#details-body", Static).update(literal(message, "bold red"))

    def _show(self, details: BackupDetails) -> None:
        body = self.query_one("#details-body", Static)
        if not details.exists:
            self._gone = True
            self.refresh_bindings()
            self.query_one("#details-rows", Static).update(self._rows_text(None))
            body.update(
                Text("The table is gone: this metadata row describes a backup that no longer exists.", style="bold")
            )
            return
        sizes = _grid()
        sizes.add_row("table", fmt.size(details.table_bytes))
        sizes.add_row("indexes", fmt.size(details.index_bytes))
        sizes.add_row("toast", fmt.size(details.toast_bytes))
        sizes.add_row("estimated rows", fmt.count(details.estimated_rows))
        columns = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
        columns.add_column("column")
        columns.add_column("type")
        columns.add_column("null")
        for col in details.columns:
            columns.add_row(literal(col.name), literal(col.type), "yes" if col.nullable else "no")
        deps = Text()
        if details.dependants is None:
            deps.append("known after `backup-tui install` (the 2025 layout cannot tell)", "dim")
        elif details.dependants:
            deps.append("depends on this backup (drop refuses until they go):\n", "bold red")
            for dep in details.dependants:
                deps.append("  ")
                deps.append(literal(dep))
                deps.append("\n")
        else:
            deps.append("nothing depends on this backup", "dim")
        grid = Table.grid(padding=(1, 0))
        grid.add_column()
        grid.add_row(Text("size", style="bold underline"))
        grid.add_row(sizes)
        grid.add_row(Text(f"columns ({len(details.columns)})", style="bold underline"))
        grid.add_row(columns)
        grid.add_row(Text("dependants", style="bold underline"))
        grid.add_row(deps)
        body.update(grid)

    def action_back(self) -> None:
        if self._counting:
            self.database.cancel()
        self.dismiss()

    def action_diff(self) -> None:
        if self.countable and self.state is SchemaState.CURRENT:
            self.app.push_screen(DiffScreen(self.database, self.backup.backup_table_name))

    def action_count(self) -> None:
        if self._counting or not self.countable:
            return
        self._counting = True
        self.query_one("#details-rows", Static).update(self._rows_text(None, "counting… (x cancels)"))
        self.count()

    def action_cancel_count(self) -> None:
        if self._counting:
            self.database.cancel()

    @work(thread=True, exit_on_error=False, exclusive=True, group="count")
    def count(self) -> None:
        try:
            actual = self.database.count_rows(self.backup.backup_table_name)
        except DatabaseError as exc:
            self.app.call_from_thread(self._counted, None, error_text(exc))
            return
        self.app.call_from_thread(self._counted, actual, "")

    def _counted(self, actual: int | None, error: str) -> None:
        self._counting = False
        if self.is_attached:
            self.query_one("#details-rows", Static).update(self._rows_text(actual, error))
