"""The retention plan and its application: SQL decides (backup.plan_prune, backup.prune_batch)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from tui.model import PLAN_COLUMNS, DropResult, PlanRow


def load_plan(conn: psycopg.Connection) -> list[PlanRow]:
    """What the policy will do to every backup, and why."""
    query = sql.SQL("SELECT {} FROM backup.plan_prune()").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in PLAN_COLUMNS)
    )
    with conn.cursor() as cur:
        cur.execute(query)
        return [PlanRow(*row) for row in cur]


def prune_batch(conn: psycopg.Connection, names: Sequence[str]) -> list[DropResult]:
    """Drop those of `names` still due for deletion, in one transaction (autocommit statement)."""
    rows = conn.execute(
        "SELECT backup_table_name, freed_bytes, error FROM backup.prune_batch(%s)", (list(names),)
    ).fetchall()
    return [DropResult(name, freed or 0, error) for name, freed, error in rows]


def apply_prune(
    run_batch: Callable[[Sequence[str]], list[DropResult]],
    names: Sequence[str],
    batch_size: int = 100,
    progress: Callable[[DropResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[DropResult]:
    """Apply the deletes `names` in batches of `batch_size`, one committed transaction each.
    `cancel` stops before the next batch: committed batches stay done, the rest are reported."""
    results: list[DropResult] = []
    for start in range(0, len(names), batch_size):
        stopped = cancel is not None and cancel.is_set()
        if stopped:
            batch = [DropResult(n, error="not attempted: cancelled") for n in names[start:]]
        else:
            batch = run_batch(names[start : start + batch_size])
        for result in batch:
            results.append(result)
            if progress:
                progress(result)
        if stopped:
            break
    return results


def mark_reviewed(conn: psycopg.Connection, name: str, note: str) -> None:
    conn.execute("SELECT backup.mark_reviewed(%s, %s)", (name, note))
