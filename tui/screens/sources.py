"""`g`: the inventory per source table, biggest first — which table's backups eat the disk.
`enter` shows that table's backups (the filter `source:=T`), `g` or `escape` goes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from tui import format as fmt
from tui.model import Backup
from tui.screens.listing_screen import SORT_BINDINGS, ListingScreen
from tui.sources import group_by_source
from tui.widgets.bars import SummaryBar
from tui.widgets.source_table import SourceTable, source_listing


@dataclass
class SourcesState:
    """What the view keeps between visits: sort, filter and the cursor's table."""

    sort_column: str = "size"
    descending: bool = True
    filter_text: str = ""
    cursor: str | None = None


class SourcesScreen(ListingScreen):
    """Dismisses with the chosen source table ('' for the unknown one), or None to go back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SORT_BINDINGS,
        Binding("enter", "open", "Backups", id="sources-open", priority=True, tooltip="show this table's backups"),
        Binding("g", "back", "Back", id="sources-back", priority=True, tooltip="back to every backup"),
        Binding("q", "back", "Back", show=False, id="sources-quit", tooltip="back to every backup"),
    ]

    def __init__(self, rows: list[Backup], state: SourcesState, partial: bool = False) -> None:
        super().__init__()
        self.listing = source_listing()
        self.groups = group_by_source(rows)
        self.state = state
        self.partial = partial
        self.backups = len(rows)

    def compose(self) -> ComposeResult:
        title = Text("Backups per source table", style="bold")
        if self.partial:
            title.append("  ·  still loading: the biggest backups only", "dim italic")
        yield Static(title, id="sources-title")
        yield SourceTable(self.listing, id="sources")
        yield Static(id="filter")
        yield SummaryBar(id="summary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        state = self.state
        self.listing.sort_column, self.listing.descending = state.sort_column, state.descending
        self.listing.set_rows(self.groups)
        self.filter_text = state.filter_text
        self.listing.filter(state.filter_text)
        self._show_filter()
        self.table.rows_changed(state.cursor, reloaded=True)
        self.table.focus()
        self.update_summary()

    def update_summary(self) -> None:
        groups = self.listing.visible
        size = sum(g.size for g in groups)
        reclaim = sum(g.reclaimable for g in groups)
        parts = [
            (f"{len(groups):,} source table{'s' if len(groups) != 1 else ''}", "bold"),
            f"  ·  {self.backups:,} backups  ·  {fmt.size(size)}  ·  ",
            (fmt.size(reclaim), "bold"),
            " reclaimable now",
        ]
        self.query_one(SummaryBar).show(lambda width: _fit(Text.assemble(*parts), width))

    def _remember(self) -> None:
        self.state.sort_column, self.state.descending = self.listing.sort_column, self.listing.descending
        self.state.filter_text = self.filter_text
        self.state.cursor = self.current_name()

    def action_open(self) -> None:
        current = self.table.current
        if current is not None:
            self._remember()
            self.dismiss(current.source)

    def action_back(self) -> None:
        self._remember()
        self.dismiss(None)

    def action_clear_filter(self) -> None:
        if self.filtering or self.listing.query:
            super().action_clear_filter()
        else:
            self.action_back()


def _fit(text: Text, width: int) -> Text:
    text.truncate(width, overflow="ellipsis")
    return text
