"""How a database of the fleet looks as a row: where it is, its backups, what could go, findings."""

from __future__ import annotations

from typing import ClassVar

from tui import format as fmt
from tui.listing import Listing, SortKey
from tui.model import FleetRow
from tui.widgets.virtual_table import ColumnSpec, VirtualTable

# Required at every width: the target, what could go, the size and whether it answered; findings,
# backups and the schema join next; where it is, the oldest backup and the version when wide.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "target", 10, 1, grow=True, max_width=30, required=True),
    ColumnSpec("where", "host/database", 14, 8, grow=True, max_width=40),
    ColumnSpec("version", "version", 7, 10),
    ColumnSpec("schema", "schema", 9, 7),
    ColumnSpec("backups", "backups", 7, 6, right=True),
    ColumnSpec("size", "size", 6, 3, right=True, width=10, required=True),
    ColumnSpec("reclaimable", "reclaimable", 6, 2, right=True, width=13, required=True),
    ColumnSpec("age", "oldest", 10, 9),
    ColumnSpec("findings", "findings", 8, 5, right=True),
    ColumnSpec("status", "status", 10, 4, grow=True, max_width=24, required=True),
)

SORT_KEYS: dict[str, SortKey[FleetRow]] = {
    "name": SortKey(lambda r: r.target.label.casefold()),
    "where": SortKey(lambda r: f"{r.host}/{r.dbname}" if r.reachable else None),
    "version": SortKey(lambda r: r.version),
    "schema": SortKey(lambda r: r.state.value if r.state else None),
    "backups": SortKey(lambda r: r.backups if r.reachable else None, descending_first=True),
    "size": SortKey(lambda r: r.size if r.reachable else None, descending_first=True),
    "reclaimable": SortKey(lambda r: r.reclaimable if r.reachable else None, descending_first=True),
    "age": SortKey(lambda r: -r.oldest.timestamp() if r.oldest else None, descending_first=True),
    "findings": SortKey(lambda r: r.findings if r.reachable else None, descending_first=True),
    "status": SortKey(lambda r: (r.error is None, r.error or "")),
}


def status_of(row: FleetRow) -> str:
    if row.error:
        return row.error
    if row.state is None:
        return "asking…"
    return "reachable"


def fleet_listing() -> Listing[FleetRow]:
    """Reclaimable first: where pruning frees the most."""
    return Listing(
        SORT_KEYS,
        haystack=lambda r: f"{r.target.label}\x00{r.host}\x00{r.dbname}\x00{status_of(r)}",
        identity=lambda r: r.target.label,
        sort_column="reclaimable",
        prebuilt=("size", "name"),
    )


class FleetTable(VirtualTable[FleetRow]):
    COLUMNS = COLUMNS
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {"fleet--down", "fleet--findings"}

    DEFAULT_CSS = """
    FleetTable > .fleet--down { color: $text-error; text-style: bold; }
    FleetTable > .fleet--findings { color: $text-warning; text-style: bold; }
    """

    def identity(self, row: FleetRow) -> str:
        return row.target.label

    def cell(self, row: FleetRow, column: str, width: int | None = None) -> tuple[str, str | None]:
        up = row.reachable and row.state is not None
        if column == "name":
            return row.target.label, None
        if column == "where":
            return (f"{row.host}/{row.dbname}" if up else fmt.MISSING), "vtable--muted" if not up else None
        if column == "version":
            return row.version or fmt.MISSING, "vtable--muted"
        if column == "schema":
            return (row.state.value if row.state else fmt.MISSING), None
        if column == "backups":
            return (fmt.count(row.backups) if up else fmt.MISSING), None
        if column == "size":
            return (fmt.size(row.size, short=fmt.narrow(width, fmt.SIZE_WIDTH)) if up else fmt.MISSING), None
        if column == "reclaimable":
            text = fmt.size(row.reclaimable, short=fmt.narrow(width, fmt.SIZE_WIDTH)) if up else fmt.MISSING
            return text, None
        if column == "age":
            return fmt.day(row.oldest), "vtable--muted"
        if column == "findings":
            return (str(row.findings) if up else fmt.MISSING), "fleet--findings" if row.findings else None
        if column == "status":
            return status_of(row), "fleet--down" if row.error else "vtable--muted"
        raise KeyError(column)
