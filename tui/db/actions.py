"""Writes. Each is one call of a backup.* function in its own short transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import psycopg

from tui.db.connection import Settings, write_transaction
from tui.db.errors import friendly_message
from tui.model import DropResult


def create_backup(
    conn: psycopg.Connection,
    settings: Settings,
    table: str,
    reason: str,
    kind: str = "manual",
    schema: str = "public",
) -> str:
    """Copy schema.table into the backup schema; return the new backup's name."""
    with write_transaction(conn, settings):
        row = conn.execute(
            "SELECT backup.create_table_backup(%s, %s, %s, %s)", (table, reason, kind, schema)
        ).fetchone()
    assert row is not None
    return row[0]


def drop_backup(conn: psycopg.Connection, settings: Settings, name: str) -> int:
    """Drop one backup (table, metadata row, audit row together); return the bytes freed."""
    with write_transaction(conn, settings):
        row = conn.execute("SELECT backup.drop_table_backup(%s)", (name,)).fetchone()
    assert row is not None
    return row[0]


def drop_backups(
    conn: psycopg.Connection,
    settings: Settings,
    names: Iterable[str],
    progress: Callable[[DropResult], None] | None = None,
) -> list[DropResult]:
    """Drop each backup in its own transaction; a failure is recorded and the rest go on."""
    results = []
    for name in names:
        try:
            result = DropResult(name, freed_bytes=drop_backup(conn, settings, name))
        except psycopg.Error as exc:
            if conn.closed:
                raise
            result = DropResult(name, error=friendly_message(exc))
        results.append(result)
        if progress:
            progress(result)
    return results
