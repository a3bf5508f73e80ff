"""Text that must be shown, never obeyed: markup, terminal escapes, bidi marks, quotes, 63 bytes."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tui.db.backups import create_backup
from tui.db.schema import install

MARKUP_TABLE = "[/]evil"
ESCAPE_TABLE = "esc\x1b[2Jhome"  # ESC [2J clears a terminal's screen
REASON = "copy of a[1] and b[/2] \x1b]0;pwned\x07"  # markup, and ESC ]0; ... BEL retitles a terminal
KIND = "[/]weird"
STRAY = "[bold]stray[/bold]_backup_20250101"
BIDI = "invoice\u202etxt.exe"


def seed_hostile(conn: psycopg.Connection) -> dict[str, str]:
    """Backups whose names, sources, reasons and kind are hostile; returns them by role."""
    install(conn)
    conn.execute(
        "INSERT INTO backup.retention_policy (backup_kind, keep_for, action, description) "
        "VALUES (%s, interval '1 day', 'review', 'a kind a DBA added, with brackets')",
        (KIND,),
    )
    names = {}
    for label, table, reason, kind in (
        ("markup", MARKUP_TABLE, REASON, KIND),
        ("escape", ESCAPE_TABLE, "before \x1b[31mred\x1b[0m", "manual"),
        ("bidi", BIDI, 'it\'s "quoted" \\ and [b]bold[/b]', "daily"),
    ):
        conn.execute(
            sql.SQL("CREATE TABLE public.{} AS SELECT g AS id FROM generate_series(1, 10) g").format(
                sql.Identifier(table)
            )
        )
        names[label] = create_backup(conn, table, reason, kind)
    # Due for review (3 days old, kept a day, then review; a newer copy exists): v opens the review modal.
    names["markup_newer"] = create_backup(conn, MARKUP_TABLE, REASON, KIND)
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '3 days' WHERE backup_table_name = %s",
        (names["markup"],),
    )
    conn.execute(sql.SQL("CREATE TABLE backup.{} (x int)").format(sql.Identifier(STRAY)))
    names["stray"] = STRAY
    return names
