"""A table that renders only the rows on screen, over a Listing of any size.

Textual's DataTable builds every row up front (seconds at 10,000 rows, and again on each
filter keystroke); this one keeps rows in a Listing and paints the visible window, so load,
sort and filter cost what the Listing costs, and painting costs the screen height.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import filterfalse
from typing import ClassVar, Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.format import printable
from tui.listing import Listing

R = TypeVar("R")


def _widest(texts: set[str]) -> int:
    """The widest of these texts in terminal cells: ASCII ones by length (C, no per-text call),
    the others by Rich's cell_len (wide characters count two)."""
    ascii_widest = max(map(len, filter(str.isascii, texts)), default=0)
    return max(ascii_widest, max(map(cell_len, filterfalse(str.isascii, texts)), default=0))


MARK = "●"


@dataclass(frozen=True)
class ColumnSpec:
    """A column and how it yields to a narrow screen.

    `min_width`: the narrowest it is shown at (cells then use their short forms: '48 s', '936K');
    `width`: the comfortable width its long forms need (grow columns measure theirs from the rows,
    up to `max_width`). `required` columns stay at every width; the others join by `priority`
    (1 first) while every column already shown still has its comfortable width.
    """

    key: str
    title: str
    min_width: int
    priority: int
    right: bool = False
    grow: bool = False
    max_width: int = 0  # for grow columns: never wider than this
    width: int = 0  # the comfortable width of a fixed column; 0: min_width
    required: bool = False
    required_from: int = 0  # required from this width of the table on (0: see `required`)


class VirtualTable(ScrollView, Generic[R], can_focus=True):
    """Header line plus the visible slice of `listing.visible`, with a cursor and marks."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vtable--header",
        "vtable--header-sorted",
        "vtable--cursor",
        "vtable--marked",
        "vtable--muted",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="cursor-up", tooltip="move"),
        Binding("down", "cursor(1)", "Down", show=False, id="cursor-down", tooltip="move"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="page-up", tooltip="move"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="page-down", tooltip="move"),
        Binding("home", "edge(0)", "First", show=False, id="first", tooltip="move"),
        Binding("end", "edge(1)", "Last", show=False, id="last", tooltip="move"),
    ]

    DEFAULT_CSS = """
    VirtualTable { overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    VirtualTable > .vtable--header { text-style: bold; color: $text-accent; background: $panel; }
    VirtualTable > .vtable--header-sorted { text-style: bold underline; color: $text; background: $panel; }
    VirtualTable > .vtable--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    VirtualTable:blur > .vtable--cursor { background: $block-cursor-blurred-background; }
    VirtualTable > .vtable--marked { color: $text-warning; text-style: bold; }
    VirtualTable > .vtable--muted { color: $text-muted; }
    """

    COLUMNS: ClassVar[Sequence[ColumnSpec]] = ()

    cursor = reactive(0, always_update=True, init=False)

    class CursorMoved(Message):
        """The cursor is on another row (or the rows changed under it)."""

    class HeaderClicked(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, listing: Listing[R], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.listing = listing
        self._ideal: dict[str, int] = {}
        self._layout: list[tuple[ColumnSpec, int]] = []
        self._layout_width = -1
        self.flags: set[str] = set()

    def set_flags(self, identities: set[str]) -> None:
        """Rows to flag with "!" (they have findings: see the check screen)."""
        self.flags = identities
        self.refresh()

    def flagged(self, row: R) -> bool:
        """Whether the row gets a "!" (subclasses may flag what a row itself says, too)."""
        return bool(self.flags) and self.identity(row) in self.flags

    def flag(self, row: R) -> str:
        """The character beside the mark: "!" for a row with findings, else a space."""
        return "!" if self.flagged(row) else " "

    # -- what subclasses provide -------------------------------------------------------
    def cell(self, row: R, column: str, width: int | None = None) -> tuple[str, str | None]:
        """Text of one cell and the component class that styles it (None: plain). Within `width`
        cells when it can say the same in fewer (None: the long form)."""
        raise NotImplementedError

    def identity(self, row: R) -> str:
        raise NotImplementedError

    # -- state -----------------------------------------------------------------------
    @property
    def current(self) -> R | None:
        rows = self.listing.visible
        return rows[self.cursor] if 0 <= self.cursor < len(rows) else None

    def rows_changed(
        self, keep: str | None = None, *, reloaded: bool = False, ideal: dict[str, int] | None = None
    ) -> None:
        """Call after the Listing changed (sorted, filtered, or `reloaded` with new rows).

        Keeps the cursor on row `keep` when it is still visible. Column widths are measured
        only on reload (O(n)), or given (`ideal`: measured by ideal_widths in a worker); a sort or
        a filter keystroke costs the Listing's work plus one O(m) search for the cursor row.
        """
        if reloaded:
            self._ideal = ideal if ideal is not None else self.ideal_widths(self.listing.all)
            self._layout_width = -1
        index = self.listing.index_of(keep)
        self.virtual_size = Size(self.size.width, len(self.listing.visible) + 1)
        self._move_to(index if index is not None else min(self.cursor, max(len(self.listing.visible) - 1, 0)))
        self.refresh()

    def widen_for(self, rows: list[R]) -> None:
        """Grow columns' ideal widths for rows patched in (O(len(rows)), not a whole re-measure)."""
        changed = False
        for spec in self.COLUMNS:
            if spec.grow:
                widest = _widest(self.texts(rows, spec.key))
                ideal = min(max(widest, self._ideal.get(spec.key, 0)), spec.max_width or 10_000)
                if ideal != self._ideal.get(spec.key):
                    self._ideal[spec.key] = ideal
                    changed = True
        if changed:
            self._layout_width = -1

    def ideal_widths(self, rows: Sequence[R]) -> dict[str, int]:
        """Widths that fit every value of the grow columns (O(n), once per load, not per paint).
        Reads only the rows and the class's columns: a worker may call it for rows it prepared."""
        ideal = {}
        for spec in self.COLUMNS:
            if spec.grow:
                widest = _widest(self.texts(rows, spec.key))
                ideal[spec.key] = min(max(widest, spec.min_width, len(spec.title) + 2), spec.max_width or 10_000)
        return ideal

    def texts(self, rows: Sequence[R], column: str) -> set[str]:
        """The distinct texts of a column's cells (subclasses may find them without a cell() a row)."""
        return {self.cell(r, column)[0] for r in rows}

    # -- layout ----------------------------------------------------------------------
    def _comfortable(self, spec: ColumnSpec) -> int:
        if spec.grow:
            return self._ideal.get(spec.key, spec.min_width)
        return max(spec.width, spec.min_width)

    def _columns_for(self, width: int) -> list[tuple[ColumnSpec, int]]:
        """The columns that fit `width` and their widths (see ColumnSpec), cached per width."""
        if width == self._layout_width:
            return self._layout
        available = width - 2  # the mark column
        by_priority = sorted(self.COLUMNS, key=lambda s: s.priority)
        chosen: list[ColumnSpec] = []
        used = comfortable = 0

        def required(spec: ColumnSpec) -> bool:
            return spec.required or (0 < spec.required_from <= width)

        for spec in (s for s in by_priority if required(s)):
            need = spec.min_width + (1 if chosen else 0)
            if used + need <= available:
                chosen.append(spec)
                used += need
                comfortable += self._comfortable(spec) + (1 if len(chosen) > 1 else 0)
        for spec in (s for s in by_priority if not required(s)):
            if comfortable + 1 + spec.min_width <= available:
                chosen.append(spec)
                used += 1 + spec.min_width
                comfortable += 1 + self._comfortable(spec)
        widths = {s.key: s.min_width for s in chosen}
        spare = available - used
        for spec in sorted(chosen, key=lambda s: s.priority):  # the most important first
            extra = min(spare, max(self._comfortable(spec) - spec.min_width, 0))
            widths[spec.key] += extra
            spare -= extra
        ordered = [s for s in self.COLUMNS if s.key in widths]
        if spare > 0 and ordered:
            grow = [s for s in ordered if s.grow] or ordered
            widths[grow[-1].key] += spare
        self._layout = [(s, widths[s.key]) for s in ordered]
        self._layout_width = width
        return self._layout

    def shown_columns(self) -> list[str]:
        """The keys of the columns on screen now, in display order."""
        return [spec.key for spec, _ in self._columns_for(self.scrollable_content_region.width)]

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.listing.visible) + 1)
        self._scroll_cursor_into_view()

    # -- painting ----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        # Within the scrollbar, not under it: the last column ("unregistered") loses no character.
        width = self.scrollable_content_region.width
        layout = self._columns_for(width)
        if y == 0:
            return self._header_strip(layout, width)
        index = int(self.scroll_offset.y) + y - 1
        rows = self.listing.visible
        if index >= len(rows):
            return Strip.blank(width, self.rich_style)
        return self._row_strip(rows[index], index, layout, width)

    def _fit(self, text: str, width: int, right: bool) -> str:
        if cell_len(text) > width:
            return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
        pad = " " * (width - cell_len(text))
        return pad + text if right else text + pad

    def _header_strip(self, layout: list[tuple[ColumnSpec, int]], width: int) -> Strip:
        base = self.get_component_rich_style("vtable--header")
        sorted_style = self.get_component_rich_style("vtable--header-sorted")
        arrow = "▼" if self.listing.descending else "▲"
        segments = [Segment("  ", base)]
        for i, (spec, w) in enumerate(layout):
            if i:
                segments.append(Segment(" ", base))
            is_sorted = spec.key == self.listing.sort_column
            title = f"{spec.title} {arrow}" if is_sorted else spec.title
            style = (sorted_style if is_sorted else base) + Style(meta={"header": spec.key})
            segments.append(Segment(self._fit(title, w, spec.right), style))
        return Strip(segments).adjust_cell_length(width, base)

    def _row_strip(self, row: R, index: int, layout: list[tuple[ColumnSpec, int]], width: int) -> Strip:
        base = self.rich_style
        on_cursor = index == self.cursor
        overlay = self.get_component_rich_style("vtable--cursor") if on_cursor else None
        meta = Style(meta={"row": index})
        marked = self.listing.is_marked(row)
        mark_style = self.get_component_rich_style("vtable--marked")
        flag = self.flag(row)
        segments = [Segment(f"{MARK if marked else ' '}{flag}", base + mark_style + meta)]
        for i, (spec, w) in enumerate(layout):
            if i:
                segments.append(Segment(" ", base + meta))
            text, css_class = self.cell(row, spec.key, w)
            style = base + self.get_component_rich_style(css_class) if css_class else base
            segments.append(Segment(self._fit(printable(text), w, spec.right), style + meta))
        strip = Strip(segments).adjust_cell_length(width, base + meta)
        if overlay is not None:
            # post_style: the cursor's colours win over the cells' own.
            strip = Strip(Segment.apply_style(strip, post_style=overlay), strip.cell_length)
        return strip

    # -- cursor ------------------------------------------------------------------------
    def watch_cursor(self) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved())

    def _move_to(self, index: int) -> None:
        last = len(self.listing.visible) - 1
        self.cursor = max(0, min(index, last)) if last >= 0 else 0

    def _scroll_cursor_into_view(self) -> None:
        body = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self._move_to(len(self.listing.visible) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        if "header" in meta:
            self.post_message(self.HeaderClicked(meta["header"]))
        elif "row" in meta:
            self._move_to(meta["row"])
