"""What every table screen shares: sort keys, the typed filter, and keeping the cursor in place."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tui.listing import Listing
from tui.widgets.text import literal
from tui.widgets.virtual_table import VirtualTable

# The sort keys stay out of the footer so the others fit at 80 columns; ? lists them all.
SORT_WORDS = "sort by size / age / name, biggest and oldest first (again: reverse)"
SORT_BINDINGS: list[BindingType] = [
    Binding("s", "sort('size')", "Size", show=False, id="sort-size", tooltip=SORT_WORDS),
    Binding("a", "sort('age')", "Age", show=False, id="sort-age", tooltip=SORT_WORDS),
    Binding("n", "sort('name')", "Name", show=False, id="sort-name", tooltip=SORT_WORDS),
    Binding(
        "less_than_sign",
        "shift_sort(-1)",
        "Prev col",
        show=False,
        id="sort-prev",
        tooltip="sort by the previous / next column (or click a header)",
    ),
    Binding(
        "greater_than_sign",
        "shift_sort(1)",
        "Next col",
        show=False,
        id="sort-next",
        tooltip="sort by the previous / next column (or click a header)",
    ),
    # priority: it runs at the App, in key order, before the keys behind it are checked against the
    # other priority bindings (p, d, c…): "/status:expired" typed in one burst is all filter text.
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        priority=True,
        tooltip="filter on words in name, source, reason, kind, status; status:S kind:K source:T",
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
        self.filter_selected = False  # "/" on a kept filter selects it: typing replaces it

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
        """To the previous or next column on screen: a hidden column would sort with no arrow shown."""
        keys = [c.key for c in self.table.COLUMNS]
        shown = set(self.table.shown_columns())
        at = keys.index(self.listing.sort_column)
        for offset in range(1, len(keys) + 1):
            column = keys[(at + step * offset) % len(keys)]
            if column in shown:
                self.action_sort(column)
                return

    @on(VirtualTable.HeaderClicked)
    def _header_clicked(self, event: VirtualTable.HeaderClicked) -> None:
        self.action_sort(event.column)

    # -- filter --------------------------------------------------------------------------
    # The filter is typed into the screen itself, not an Input. "/" is a priority binding and, while
    # filtering, the App hands every key to filter_key before any binding sees it (BackupApp.
    # on_event): both happen in key order, as keys arrive. So "/inv⏎d" typed or pasted at once
    # filters by "inv" and then drops, and "/status:expired" is all text (p is not Prune there).
    def action_filter(self) -> None:
        self.filtering = True
        self.filter_selected = bool(self.filter_text)
        self._show_filter()

    def set_filter(self, text: str) -> None:
        """Show the rows matching `text`, as if typed and kept (the grouped view's enter)."""
        self.filtering = self.filter_selected = False
        self._set_filter(text)
        self._show_filter()

    def _show_filter(self) -> None:
        box = self.query_one("#filter", Static)
        box.display = self.filtering or bool(self.listing.query)
        text = Text.assemble(("/", "bold"), " ")
        text.append(literal(self.filter_text, "reverse" if self.filtering and self.filter_selected else ""))
        if self.filtering:
            text.append("▏", "blink")
            if not self.filter_text:
                text.append("text, status:… kind:… source:… · enter keeps · escape clears", "dim")
            elif self.filter_selected:
                text.append("  typing replaces · → edits", "dim")
        box.update(text)

    def filter_key(self, event: events.Key) -> bool:
        """A key while the filter is being typed: text, or enter / escape / backspace. False for
        keys that are not the filter's (arrows move the cursor as usual)."""
        selected, self.filter_selected = self.filter_selected, False
        if event.key == "enter":
            self.filtering = False
        elif event.key == "escape":
            self.action_clear_filter()
        elif event.key == "backspace":
            self._set_filter("" if selected else self.filter_text[:-1])
        elif event.key == "ctrl+u":
            self._set_filter("")
        elif event.key in ("left", "right", "end", "home") and selected:
            pass  # deselected: typing goes on from the end of the kept text
        elif event.is_printable and event.character:
            self._set_filter(("" if selected else self.filter_text) + event.character)
        else:
            self.filter_selected = selected
            return False
        self._show_filter()
        return True

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
        # While typing a filter every key is text (filter_key), not a command.
        return not self.filtering
