"""How a source table's group looks as a row: counts, sizes, ages and its share as a bar."""

from __future__ import annotations

from typing import ClassVar

from tui import format as fmt
from tui.listing import Listing, SortKey
from tui.sources import SourceGroup
from tui.widgets.virtual_table import ColumnSpec, VirtualTable

UNKNOWN_SOURCE = "(no source: unregistered)"

# The keys match the inventory's where they mean the same, so s, a and n sort here too.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "source table", 14, 1, grow=True, max_width=48, required=True),
    ColumnSpec("count", "backups", 7, 4, right=True, required=True),
    ColumnSpec("size", "size", 6, 2, right=True, width=10, required=True),
    ColumnSpec("reclaimable", "reclaimable", 6, 3, right=True, width=11, required=True),
    ColumnSpec("age", "oldest", 6, 6, right=True, width=10),
    ColumnSpec("newest", "newest", 6, 7, right=True, width=10),
    ColumnSpec("redundant", "redundant", 9, 8, right=True, width=16),
    ColumnSpec("share", "share", 8, 5, grow=True, max_width=30, required=True),
)

SORT_KEYS: dict[str, SortKey[SourceGroup]] = {
    "name": SortKey(lambda g: g.source.casefold()),
    "count": SortKey(lambda g: g.count, descending_first=True),
    "size": SortKey(lambda g: g.size, descending_first=True),
    "reclaimable": SortKey(lambda g: g.reclaimable, descending_first=True),
    "age": SortKey(
        lambda g: -g.oldest.backup_date.timestamp() if g.oldest and g.oldest.backup_date else None,
        descending_first=True,
    ),
    "newest": SortKey(
        lambda g: -g.newest.backup_date.timestamp() if g.newest and g.newest.backup_date else None,
        descending_first=True,
    ),
    "share": SortKey(lambda g: g.share, descending_first=True),
    "redundant": SortKey(lambda g: g.redundant_size, descending_first=True),
}

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def share_bar(share: float, width: int) -> str:
    """'█████▍      37%' in `width` cells: the bar, in eighths of a cell, then the percentage."""
    percent = f"{share * 100:3.0f}%"
    room = width - len(percent) - 1
    if room < 1:
        return percent.strip().rjust(width)
    eighths = round(max(0.0, min(share, 1.0)) * room * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    return bar.ljust(room) + " " + percent


def source_listing() -> Listing[SourceGroup]:
    """Biggest first: which table's backups are eating the disk."""
    return Listing(
        SORT_KEYS,
        haystack=lambda g: g.source,
        identity=lambda g: g.source,
        sort_column="size",
        prebuilt=("size", "age", "name"),
    )


class SourceTable(VirtualTable[SourceGroup]):
    COLUMNS = COLUMNS
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {"sources--bar", "sources--reclaim"}

    DEFAULT_CSS = """
    SourceTable > .sources--bar { color: $text-accent; }
    SourceTable > .sources--reclaim { color: $text-error; text-style: bold; }
    """

    def identity(self, row: SourceGroup) -> str:
        return row.source

    def cell(self, row: SourceGroup, column: str, width: int | None = None) -> tuple[str, str | None]:
        if column == "name":
            return (row.source or UNKNOWN_SOURCE), None if row.source else "vtable--muted"
        if column == "count":
            return fmt.count(row.count), None
        if column == "size":
            return fmt.size(row.size, short=fmt.narrow(width, fmt.SIZE_WIDTH)), None
        if column == "reclaimable":
            if not row.reclaimable:
                return "0", "vtable--muted"
            return fmt.size(row.reclaimable, short=fmt.narrow(width, fmt.SIZE_WIDTH)), "sources--reclaim"
        if column == "age":
            return fmt.age(row.oldest.age_words if row.oldest else None, short=fmt.narrow(width, fmt.AGE_WIDTH)), None
        if column == "newest":
            return fmt.age(row.newest.age_words if row.newest else None, short=fmt.narrow(width, fmt.AGE_WIDTH)), None
        if column == "share":
            return share_bar(row.share, width if width is not None else 20), "sources--bar"
        if column == "redundant":
            if not row.redundant:
                return "", None
            return f"{row.redundant} ({fmt.size(row.redundant_size, short=True)})", None
        raise KeyError(column)
