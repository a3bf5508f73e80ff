"""Writes to single backups, each one call of a backup.* function. Transaction-agnostic: the caller
says in which transaction (Session.write: one, with its settings and the write statement timeout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from tui.db.connection import pipelined
from tui.db.errors import phrase
from tui.model import ItemResult, Kind, KindChoice, Outcome


def send_create(
    conn: psycopg.Connection, table: str, reason: str, kind: str = Kind.MANUAL, schema: str = "public"
) -> Callable[[], str]:
    """Copy schema.table into the backup schema (backup.create_table_backup): sent; the returned
    call reads the new backup's name (Session.send_write: after the COMMIT that went with it)."""
    cur = conn.execute(
        "SELECT backup.create_table_backup(%s::text, %s::text, %s::text, %s::text)", (table, reason, str(kind), schema)
    )
    return lambda: str(_one(cur))


def create_backup(
    conn: psycopg.Connection, table: str, reason: str, kind: str = Kind.MANUAL, schema: str = "public"
) -> str:
    return send_create(conn, table, reason, kind, schema)()


def send_drop(conn: psycopg.Connection, name: str) -> Callable[[], int]:
    """Drop one backup (table, metadata row, audit row together): sent; reads the bytes freed."""
    cur = conn.execute("SELECT backup.drop_table_backup(%s::text)", (name,))
    return lambda: int(_one(cur))


def drop_backup(conn: psycopg.Connection, name: str) -> int:
    return send_drop(conn, name)()


def send_drops(conn: psycopg.Connection, names: list[str]) -> Callable[[], list[ItemResult]]:
    """Drop several backups in one call (backup.drop_table_backups), each as a lone drop would:
    sent; reads one result per name, in order, the error phrased as if it had been raised."""
    cur = conn.execute(
        "SELECT backup_table_name, freed_bytes, error_code, error, hint FROM backup.drop_table_backups(%s::text[])",
        (names,),
    )
    return lambda: [
        ItemResult(name, Outcome.DONE, int(freed or 0))
        if code is None
        else ItemResult(name, Outcome.FAILED, error=phrase(code, message or code, hint))
        for name, freed, code, message, hint in cur
    ]


def _one(cur: psycopg.Cursor[Any]) -> Any:
    row = cur.fetchone()
    assert row is not None
    return row[0]


@pipelined
def adopt_backup(
    conn: psycopg.Connection, name: str, source: str | None, kind: str, reason: str | None, schema: str
) -> tuple[str, int]:
    """Register an unregistered table (backup.adopt_backup); (source table, rows)."""
    row = conn.execute(
        "SELECT source_table_name, row_count "
        "FROM backup.adopt_backup(%s::text, %s::text, %s::text, %s::text, %s::text)",
        (name, source, str(kind), reason, schema),
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pipelined
def forget_archive(conn: psycopg.Connection, name: str) -> str:
    """Stop tracking an archived backup (backup.forget_archive): the row goes, the files stay;
    returns where they are."""
    row = conn.execute("SELECT backup.forget_archive(%s::text)", (name,)).fetchone()
    assert row is not None
    return str(row[0])


@pipelined
def mark_reviewed(conn: psycopg.Connection, name: str, note: str) -> None:
    """Acknowledge a review (backup.mark_reviewed): the next one is due an interval later."""
    conn.execute("SELECT backup.mark_reviewed(%s::text, %s::text)", (name, note))


def hold(conn: psycopg.Connection, name: str, reason: str, until: str | None) -> None:
    """Keep a backup on purpose (backup.hold_backup): the plan keeps it; drop, archive, prune refuse."""
    conn.execute("SELECT backup.hold_backup(%s::text, %s::text, %s::timestamptz)", (name, reason, until))


def release(conn: psycopg.Connection, name: str) -> None:
    """End a hold (backup.release_hold): the policy applies again."""
    conn.execute("SELECT backup.release_hold(%s::text)", (name,))


def find_redundant(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Fingerprint the backups not yet fingerprinted and record which are identical to a newer one
    (backup.find_redundant): (backup, the newer backup it is identical to)."""
    return [(r[0], r[1]) for r in conn.execute("SELECT * FROM backup.find_redundant()")]


@pipelined
def backup_kinds(conn: psycopg.Connection) -> list[KindChoice]:
    """Each kind with its retention in words, from backup.retention_policy, manual first."""
    rows = conn.execute(
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
    return [KindChoice(Kind(kind), words) for kind, words in rows]
