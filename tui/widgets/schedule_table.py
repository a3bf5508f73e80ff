"""How a schedule looks as a row: the table, kind, when in words, next and last run, what it made."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from tui import format as fmt
from tui.listing import Listing, SortKey
from tui.model import Schedule
from tui.widgets.virtual_table import ColumnSpec, VirtualTable

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "table", 12, 1, grow=True, max_width=40, required=True),
    ColumnSpec("kind", "kind", 7, 4, width=13),
    ColumnSpec("when", "when", 12, 2, grow=True, max_width=36, required=True),
    ColumnSpec("next", "next run", 11, 5, width=16),
    ColumnSpec("state", "last run", 8, 3, width=10, required=True),
    ColumnSpec("made", "backups", 7, 6, right=True, width=16),
    ColumnSpec("error", "error", 10, 7, grow=True, max_width=80),
)

SORT_KEYS: dict[str, SortKey[Schedule]] = {
    "name": SortKey(lambda s: (s.source.casefold(), s.id)),
    "kind": SortKey(lambda s: s.backup_kind),
    "when": SortKey(lambda s: s.words),
    "next": SortKey(lambda s: s.next_run.timestamp() if s.next_run else None),
    "state": SortKey(lambda s: (_state(s), s.id)),
    "made": SortKey(lambda s: s.backup_bytes, descending_first=True),
    "error": SortKey(lambda s: s.last_error or ""),
    # the s / a / n keys of every list
    "size": SortKey(lambda s: s.backup_bytes, descending_first=True),
    "age": SortKey(lambda s: s.last_attempt_at.timestamp() if s.last_attempt_at else None),
}


def _state(s: Schedule) -> str:
    if not s.enabled:
        return "paused"
    if s.failed:
        return "FAILED"
    if s.overdue:
        return "overdue"
    return s.last_result or "not yet"


def schedule_listing() -> Listing[Schedule]:
    return Listing(
        SORT_KEYS,
        haystack=lambda s: "\x00".join((s.source, s.backup_kind, s.words, s.cron, _state(s), s.last_error or "")),
        identity=lambda s: str(s.id),
        sort_column="name",
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return fmt.MISSING
    return moment.astimezone(timezone.utc).strftime("%m-%d %H:%M")


class ScheduleTable(VirtualTable[Schedule]):
    COLUMNS = COLUMNS
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        "schedule--failed",
        "schedule--ok",
        "schedule--paused",
    }

    DEFAULT_CSS = """
    ScheduleTable > .schedule--failed { color: $text-error; text-style: bold reverse; }
    ScheduleTable > .schedule--ok { color: $text-success; }
    ScheduleTable > .schedule--paused { color: $text-muted; text-style: italic; }
    """

    def identity(self, row: Schedule) -> str:
        return str(row.id)

    def cell(self, row: Schedule, column: str, width: int | None = None) -> tuple[str, str | None]:
        if column == "name":
            return row.source, None if row.enabled else "schedule--paused"
        if column == "kind":
            return row.backup_kind, None
        if column == "when":
            return row.words, None if row.enabled else "schedule--paused"
        if column == "next":
            utc = row.next_run is not None and not fmt.narrow(width, 16)
            return _when(row.next_run) + (" UTC" if utc else ""), None
        if column == "state":
            state = _state(row)
            style = {"FAILED": "schedule--failed", "overdue": "schedule--failed", "paused": "schedule--paused"}
            return state, style.get(state, "schedule--ok" if state == "ok" else None)
        if column == "made":
            size = fmt.size(row.backup_bytes, short=fmt.narrow(width, 16))
            return f"{row.backups} · {size}", None
        if column == "error":
            return row.last_error or "", "vtable--muted"
        raise KeyError(column)
