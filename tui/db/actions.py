"""Writes. Each is one call of a backup.* function in its own short transaction."""

from __future__ import annotations

import psycopg

from tui.db.connection import Settings, write_transaction


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


def backup_kinds(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(kind, its retention in words) from backup.retention_policy, manual first."""
    return conn.execute(
        """
        SELECT backup_kind,
               CASE WHEN keep_for IS NULL THEN 'kept forever'
                         || coalesce(', reviewed every ' || backup.interval_words(review_every), '')
                    ELSE 'kept ' || backup.interval_words(keep_for) || ', then '
                         || CASE action WHEN 'delete' THEN 'deleted' WHEN 'archive' THEN 'archived'
                                        ELSE 'reviewed' END
               END
          FROM backup.retention_policy
         ORDER BY backup_kind <> 'manual', keep_for NULLS LAST, backup_kind
        """
    ).fetchall()
