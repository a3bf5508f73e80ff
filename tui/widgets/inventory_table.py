"""How a backup looks as a row: columns, cell text, status colours, and how each column sorts."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import ClassVar

from tui import format as fmt
from tui.model import Backup, Rule, Status
from tui.widgets.virtual_table import ColumnSpec, VirtualTable

STATUS_WIDTH = max(len(s) for s in Status)  # 'unregistered'

# Display order. Required at every width: the name (its date always visible), age, size and status,
# in short forms when narrow ('48 s', '936K', 'unreg.'); from 80 columns the kind too (the name
# squeezed, its date kept); reason, rows, source (also in the name) and the created date join, in
# that order, as the screen widens.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "backup", 24, 1, grow=True, max_width=63, required=True),
    ColumnSpec("source", "source", 12, 8, grow=True, max_width=40),
    ColumnSpec("kind", "kind", 8, 5, width=13, required_from=78),  # kept at 80 columns (README)
    ColumnSpec("created", "created", 10, 9),
    ColumnSpec("age", "age", 6, 3, right=True, width=10, required=True),
    ColumnSpec("rows", "rows", 11, 7, right=True),
    ColumnSpec("size", "size", 6, 2, right=True, width=10, required=True),
    ColumnSpec("status", "status", 8, 4, width=12, required=True),
    ColumnSpec("reason", "reason", 10, 6, grow=True, max_width=80),
)


_NAME = operator.attrgetter("backup_table_name")
_BAD_ARCHIVE = frozenset({"damaged", "unreadable"})  # backup_metadata.verify_result
# The values a column's text is made from (the same values make the same text).
_RAW: dict[str, Callable[[Backup], object]] = {
    "source": operator.attrgetter("source_schema", "original_table_name"),
    "reason": operator.attrgetter("backup_reason"),
}


class InventoryTable(VirtualTable[Backup]):
    """The inventory: one row per backup."""

    COLUMNS = COLUMNS
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {f"inventory--{s}" for s in Status}

    DEFAULT_CSS = """
    InventoryTable > .inventory--keep { color: $text-success; }
    InventoryTable > .inventory--expired { color: $text-error; text-style: bold; }
    InventoryTable > .inventory--missing { color: $text-error; text-style: bold reverse; }
    InventoryTable > .inventory--review { color: $text-warning; }
    InventoryTable > .inventory--archive { color: $text-accent; }
    InventoryTable > .inventory--archived { color: $text-muted; text-style: italic; }
    InventoryTable > .inventory--unregistered { color: $text-warning; text-style: italic; }
    """

    def identity(self, row: Backup) -> str:
        return row.backup_table_name

    def flagged(self, row: Backup) -> bool:
        """Findings (drift, dependants), and an archive its last verification found damaged or
        unreadable: the row says that itself, no check needed."""
        return row.verify_result in _BAD_ARCHIVE or super().flagged(row)

    def flag(self, row: Backup) -> str:
        """ "!" findings first; "=" a backup identical to a newer one of its table (redundant)."""
        if self.flagged(row):
            return "!"
        return "=" if row.redundant_of else " "

    def texts(self, rows: Sequence[Backup], column: str) -> set[str]:
        """One cell() per distinct value rather than per row: sources and reasons repeat across
        thousands of backups (shared objects), names are their own text. At 100,000 rows the
        three grow columns took ~0.5 s through cell(), on the UI thread."""
        if column == "name":
            return set(map(_NAME, rows))
        raw = _RAW.get(column)
        if raw is None:
            return super().texts(rows, column)
        one_each = dict(zip(map(raw, rows), rows, strict=True))  # a row for each distinct value
        return {self.cell(r, column)[0] for r in one_each.values()}

    def cell(self, row: Backup, column: str, width: int | None = None) -> tuple[str, str | None]:
        if column == "name":
            name = row.backup_table_name
            return (name if width is None else fmt.squeeze_name(name, width)), None
        if column == "source":
            return self._muted(fmt.text(row.source))
        if column == "kind":
            return self._muted(fmt.text(row.backup_kind))
        if column == "created":
            return self._muted(fmt.day(row.backup_date))
        if column == "age":
            return self._muted(fmt.age(row.age_words, short=fmt.narrow(width, fmt.AGE_WIDTH)))
        if column == "rows":
            return self._muted(fmt.count(row.row_count))
        if column == "size":
            return self._muted(fmt.size(row.size_bytes, short=fmt.narrow(width, fmt.SIZE_WIDTH)))
        if column == "status":
            narrow = fmt.narrow(width, STATUS_WIDTH) and row.rule is not Rule.HELD
            return (row.status.short if narrow else row.status_words), f"inventory--{row.status}"
        if column == "reason":
            return self._muted(fmt.text(row.backup_reason))
        raise KeyError(column)

    @staticmethod
    def _muted(text: str) -> tuple[str, str | None]:
        return text, "vtable--muted" if text == fmt.MISSING else None
