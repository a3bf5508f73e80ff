"""The single writes a dialog makes (a backup, a registration, a schedule), one call each; what
they raise is `Failed` (a database error with its kind, worded for any front end). Dialogs use
these, never tui.db: a dialog asks and shows, the write is here."""

from __future__ import annotations

from datetime import datetime

from tui.db import Database, DatabaseError

Failed = DatabaseError


class Forms:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, table: str, reason: str, kind: str, schema: str = "public") -> str:
        """A backup of schema.table; its name."""
        return self.database.create(table, reason, kind, schema)

    def adopt(self, name: str, source: str | None, kind: str, reason: str | None) -> tuple[str, int]:
        """Register an unregistered table: (its source table, its rows)."""
        return self.database.adopt(name, source, kind, reason)

    def cron_preview(self, cron: str) -> tuple[str, list[datetime]]:
        """An expression in words and its next runs (a bad one raises Failed, in one line)."""
        return self.database.cron_preview(cron)

    def save_schedule(self, schedule_id: int | None, table: str, kind: str, cron: str, reason: str, schema: str) -> int:
        """Add a schedule, or change the one with this id; its id."""
        if schedule_id is not None:
            self.database.update_schedule(schedule_id, kind=kind, cron=cron, reason=reason)
            return schedule_id
        return self.database.add_schedule(table, kind, cron, reason, schema)

    def cancel(self) -> None:
        """Stop the statement in flight (a long CREATE TABLE AS): its transaction rolls back."""
        self.database.cancel()
