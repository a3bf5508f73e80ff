"""The single writes a dialog makes (a backup, a registration, a schedule), one call each; what
they raise is `Failed` (a database error with its kind, worded for any front end). Dialogs use
these, never tui.db: a dialog asks and shows, the write is here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tui.db import Database, DatabaseError
from tui.model import WriteResult

Failed = DatabaseError

# The cadence a kind's name promises: a schedule firing much more often than that is likely a
# mistake (a daily backup every minute keeps 10,080 copies for its 7 days).
_CADENCE = {
    "hourly": (timedelta(hours=1), "hour"),
    "daily": (timedelta(days=1), "day"),
    "weekly": (timedelta(days=7), "week"),
    "monthly": (timedelta(days=28), "month"),
}


def cadence_warning(kind: str, upcoming: Sequence[datetime]) -> str | None:
    """Words when a schedule's runs come much more often than its kind's name says, else None."""
    cadence = _CADENCE.get(kind)
    gaps = [b - a for a, b in zip(upcoming, upcoming[1:], strict=False) if b > a]
    if cadence is None or not gaps:
        return None
    period, unit = cadence
    gap = min(gaps)
    if gap * 2 > period:
        return None
    return (
        f"careful: a {kind} backup about {round(period / gap):,} times a {unit}, each kept as long as a "
        f"{kind} one: is the kind, or the expression, what you meant?"
    )


class Forms:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, table: str, reason: str, kind: str, schema: str = "public") -> str:
        """A backup of schema.table; its name."""
        return self.database.create(table, reason, kind, schema)

    def adopt(self, name: str, source: str | None, kind: str, reason: str | None) -> tuple[str, int]:
        """Register an unregistered table: (its source table, its rows)."""
        return self.database.adopt(name, source, kind, reason)

    def cron_preview(self, cron: str, count: int = 3) -> tuple[str, list[datetime]]:
        """An expression in words and its next runs (a bad one raises Failed, in one line)."""
        return self.database.cron_preview(cron, count)

    def save_schedule(self, schedule_id: int | None, table: str, kind: str, cron: str, reason: str, schema: str) -> int:
        """Add a schedule, or change the one with this id; its id."""
        if schedule_id is not None:
            self.database.update_schedule(schedule_id, kind=kind, cron=cron, reason=reason)
            return schedule_id
        return self.database.add_schedule(table, kind, cron, reason, schema)

    def hold(self, names: Sequence[str], reason: str, until: str | None) -> WriteResult:
        """Hold each backup (one that cannot be held fails alone, in the result)."""
        return self.database.hold_many(names, reason, until)

    def release(self, names: Sequence[str]) -> WriteResult:
        """End each backup's hold."""
        return self.database.release_many(names)

    def cancel(self) -> None:
        """Stop the statement in flight (a long CREATE TABLE AS): its transaction rolls back."""
        self.database.cancel()
