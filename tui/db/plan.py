"""The retention plan and its application: SQL decides (backup.plan_prune, backup.prune_batch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from tui.db.connection import pipelined
from tui.model import PLAN_COLUMNS, ItemResult, Outcome, PlanRow


@pipelined
def load_plan(conn: psycopg.Connection) -> list[PlanRow]:
    """What the policy will do to every backup, and why."""
    return send_plan(conn)()


def send_plan(conn: psycopg.Connection) -> Callable[[], list[PlanRow]]:
    """Sends the plan's query; how to read its rows once they arrived."""
    query = sql.SQL("SELECT {} FROM backup.plan_prune(backup.as_of(), NULL::text[])").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in PLAN_COLUMNS)
    )
    cur = conn.execute(query)
    return lambda: [PlanRow(*row) for row in cur]


# The database's size on disk; NULL for a role that may not know it (pg_database_size needs CONNECT).
_DATABASE_SIZE = (
    "SELECT CASE WHEN has_database_privilege(current_database(), 'CONNECT') "
    "THEN pg_database_size(current_database()) END"
)


def database_size(conn: psycopg.Connection) -> int | None:
    """What the whole database takes on disk (the backups' share of it is worth saying)."""
    row = conn.execute(_DATABASE_SIZE).fetchone()
    return row[0] if row else None


def send_plan_and_size(conn: psycopg.Connection) -> Callable[[], tuple[list[PlanRow], int | None]]:
    """The plan and the database's size on disk (None when the role may not know it), sent together."""
    rows = send_plan(conn)
    size = conn.execute(_DATABASE_SIZE)

    def read() -> tuple[list[PlanRow], int | None]:
        plan = rows()
        row = size.fetchone()
        return plan, row[0] if row else None

    return read


def send_prune_batch(conn: psycopg.Connection, names: Sequence[str]) -> Callable[[], list[ItemResult]]:
    """Drop those of `names` still due for deletion, in one transaction (one statement): sent; the
    returned call reads each one's result (Session.send_write: after the COMMIT that went with it)."""
    cur = conn.execute(
        "SELECT backup_table_name, freed_bytes, error FROM backup.prune_batch(%s::text[])", (list(names),)
    )
    return lambda: [
        ItemResult(name, Outcome.DONE if error is None else Outcome.FAILED, freed or 0, error)
        for name, freed, error in cur
    ]


def prune_batch(conn: psycopg.Connection, names: Sequence[str]) -> list[ItemResult]:
    return send_prune_batch(conn, names)()
