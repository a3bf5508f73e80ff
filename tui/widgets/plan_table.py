"""How a plan row looks: grouped by source table, decisions coloured, reasons in words."""

from __future__ import annotations

from typing import ClassVar

from tui import format as fmt
from tui.listing import Listing, SortKey
from tui.model import Decision, PlanRow
from tui.widgets.virtual_table import ColumnSpec, VirtualTable

# At every width: the decision, the name (its date kept), size, age and the start of the reason;
# spare width goes to the name, then the reason; the source (also in the name) joins when wide.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("source", "source", 12, 6, grow=True, max_width=24),
    ColumnSpec("decision", "decision", 8, 1, required=True),
    ColumnSpec("name", "backup", 24, 2, grow=True, max_width=63, required=True),
    ColumnSpec("age", "age", 6, 5, right=True, width=10, required=True),
    ColumnSpec("size", "size", 6, 4, right=True, width=10, required=True),
    ColumnSpec("reason", "reason", 12, 3, grow=True, max_width=120, required=True),
)


RANK = {decision: i for i, decision in enumerate(Decision)}


SORT_KEYS: dict[str, SortKey[PlanRow]] = {
    # Grouped by source table; inside a group, what happens first (delete, archive, review, keep).
    "source": SortKey(lambda r: (r.source.casefold(), RANK[r.decision])),
    "decision": SortKey(lambda r: (RANK[r.decision], r.source.casefold())),
    "name": SortKey(lambda r: r.backup_table_name.casefold()),
    "age": SortKey(lambda r: r.age.total_seconds() if r.age is not None else None, descending_first=True),
    "size": SortKey(lambda r: r.size_bytes, descending_first=True),
    "reason": SortKey(lambda r: r.reason.casefold()),
}


def plan_listing() -> Listing[PlanRow]:
    return Listing(
        SORT_KEYS,
        haystack=lambda r: f"{r.backup_table_name}\x00{r.source}\x00{r.reason}\x00{r.decision}",
        identity=lambda r: r.backup_table_name,
        sort_column="source",
        prebuilt=("size", "age", "name"),
    )


class PlanTable(VirtualTable[PlanRow]):
    COLUMNS = COLUMNS
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {f"plan--{d}" for d in Decision}

    DEFAULT_CSS = """
    PlanTable > .plan--delete { color: $text-error; text-style: bold; }
    PlanTable > .plan--archive { color: $text-accent; text-style: bold; }
    PlanTable > .plan--review { color: $text-warning; }
    PlanTable > .plan--keep { color: $text-success; }
    """

    def identity(self, row: PlanRow) -> str:
        return row.backup_table_name

    def cell(self, row: PlanRow, column: str, width: int | None = None) -> tuple[str, str | None]:
        if column == "source":
            return fmt.text(row.source), None
        if column == "decision":
            return str(row.decision), f"plan--{row.decision}"
        if column == "name":
            name = row.backup_table_name
            return (name if width is None else fmt.squeeze_name(name, width)), None
        if column == "age":
            return fmt.age(row.age_words, short=fmt.narrow(width, fmt.AGE_WIDTH)), None
        if column == "size":
            return fmt.size(row.size_bytes, short=fmt.narrow(width, fmt.SIZE_WIDTH)), None
        if column == "reason":
            return row.reason, None
        raise KeyError(column)
