"""What every table screen shares: sort keys, the typed filter, and keeping the cursor in place."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tui.listing import Listing
from tui.widgets.virtual_table import VirtualTable

# a and n stay out of the footer so every other key fits at 80 columns; ? lists them all.
SORT_BINDINGS: list[BindingType] = [
    Binding("s", "sort('size')", "Size", id="sort-size", tooltip="sort by size, biggest first (again: reverse)"),
    Binding("a", "sort('age')", "Age", show=False, id="sort-age", tooltip="sort by age, oldest first (again: reverse)"),
    Binding("n", "sort('name')", "Name", show=False, id="sort-name", tooltip="sort by name (again: reverse)"),
    Binding(
        "less_than_sign",
        "shift_sort(-1)",
        "Prev col",
        show=False,
        id="sort-prev",
        tooltip="sort by the previous column (or click a header)",
    ),
    Binding(
        "greater_than_sign", "shift_sort(1)", "Next col", show=False, id="sort-next", tooltip="sort by the next column"
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="filter by name, source table or reason; enter keeps it, escape clears",
    ),
    Binding("escape", "clear_filter", "Clear", show=False, id="filter-clear", tooltip="clear the filter"),
]


class ListingScreen(Screen[None]):
    """A screen around one VirtualTable over one Listing. Subclasses compose a `#filter` Static
    and call `summary_changed` hooks as they like."""

    BINDINGS: ClassVar[list[BindingType]] = SORT_BINDINGS

    listing: Listing[Any]

    def __init__(self) -> None:
        super().__init__()
        self.filtering = False
        self.filter_text = ""

    @property
    def table(self) -> VirtualTable[Any]:
        return self.query_one(VirtualTable)

    def current_name(self) -> str | None:
        current = self.table.current
        return self.table.identity(current) if current is not None else None

    def after_change(self, keep: str | None) -> None:
        """Rows were re-sorted or re-filtered: repaint, keep the cursor's row, update the summary."""
        self.table.rows_changed(keep)
        self.update_summary()

    def update_summary(self) -> None:
        """Subclasses show counts; by default nothing."""

    # -- sorting -------------------------------------------------------------------------
    def action_sort(self, column: str) -> None:
        keep = self.current_name()
        self.listing.sort_by(column)
        self.after_change(keep)

    def action_shift_sort(self, step: int) -> None:
        keys = [c.key for c in self.table.COLUMNS]
        column = keys[(keys.index(self.listing.sort_column) + step) % len(keys)]
        self.action_sort(column)

    @on(VirtualTable.HeaderClicked)
    def _header_clicked(self, event: VirtualTable.HeaderClicked) -> None:
        self.action_sort(event.column)

    # -- filter --------------------------------------------------------------------------
    # The filter is typed into the screen itself, not an Input, and "/" starts it here in on_key
    # rather than through the binding (bindings run only once a key has bubbled up to the App,
    # after the keys typed behind it already passed this screen). So "/inv⏎q" typed or pasted at
    # once filters by "inv" and then quits, with no key lost to a mode or focus change in flight.
    def action_filter(self) -> None:
        self.filtering = True
        self._show_filter()

    def _show_filter(self) -> None:
        box = self.query_one("#filter", Static)
        box.display = self.filtering or bool(self.listing.query)
        text = Text.assemble(("/", "bold"), " ", self.filter_text)
        if self.filtering:
            text.append("▏", "blink")
            if not self.filter_text:
                text.append("name, source table or reason · enter keeps · escape clears", "dim")
        box.update(text)

    def on_key(self, event: events.Key) -> None:
        if not self.filtering:
            if event.key == "slash":
                event.stop()
                event.prevent_default()
                self.action_filter()
            return
        if event.key == "enter":
            self.filtering = False
        elif event.key == "escape":
            self.action_clear_filter()
        elif event.key == "backspace":
            self._set_filter(self.filter_text[:-1])
        elif event.key == "ctrl+u":
            self._set_filter("")
        elif event.is_printable and event.character:
            self._set_filter(self.filter_text + event.character)
        else:
            return  # arrows and the like still move the cursor
        event.stop()
        event.prevent_default()
        self._show_filter()

    def _set_filter(self, text: str) -> None:
        keep = self.current_name()
        self.filter_text = text
        self.listing.filter(text.strip())
        self.after_change(keep)

    def action_clear_filter(self) -> None:
        if not self.filtering and not self.listing.query:
            return
        self.filtering = False
        self._set_filter("")
        self._show_filter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a filter every key is text (on_key), not a command.
        return not self.filtering
