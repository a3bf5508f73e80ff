"""What one backup table holds: columns, size split, dependants, exact row count."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tui.model import BackupDetails, Column, SchemaState

_OID = "SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = %s"


def backup_details(conn: psycopg.Connection, name: str, state: SchemaState) -> BackupDetails:
    """Columns, sizes and dependants of backup.<name>; `exists=False` when the table is gone."""
    row = conn.execute(_OID, (name,)).fetchone()
    if row is None:
        return BackupDetails(exists=False)
    oid = row[0]
    columns = tuple(
        Column(*r)
        for r in conn.execute(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull FROM pg_attribute a "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (oid,),
        )
    )
    sizes = conn.execute(
        "SELECT pg_relation_size(c.oid), pg_indexes_size(c.oid), "
        "coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0), "
        "CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END "
        "FROM pg_class c WHERE c.oid = %s",
        (oid,),
    ).fetchone()
    assert sizes is not None
    dependants = None  # the 2025 layout has no backup.dependants: known after install
    if state.upgraded:
        rows = conn.execute("SELECT dependant FROM backup.dependants(ARRAY[%s::oid]) ORDER BY 1", (oid,)).fetchall()
        dependants = tuple(r[0] for r in rows)
    return BackupDetails(
        exists=True,
        columns=columns,
        table_bytes=sizes[0],
        index_bytes=sizes[1],
        toast_bytes=sizes[2],
        estimated_rows=sizes[3],
        dependants=dependants,
    )


def count_rows(conn: psycopg.Connection, name: str) -> int:
    """Exact row count of backup.<name> (a full scan: run it in a worker, cancel with Database.cancel)."""
    row = conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name))).fetchone()
    assert row is not None
    return int(row[0])
