"""Who else is on the server: the session holding the lock one of our writes waits for."""

from __future__ import annotations

import psycopg


def lock_holder(conn: psycopg.Connection, waiting_pid: int) -> str | None:
    """'pid 4242 (alice, psql, idle in transaction for 3 minutes)' for the first session blocking
    `waiting_pid`, or None when it waits for nobody."""
    row = conn.execute(
        "SELECT a.pid, a.usename, nullif(a.application_name, ''), a.state, "
        "       backup.age_words(now() - coalesce(a.state_change, a.backend_start)) "
        "  FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids(%s)) ORDER BY a.pid LIMIT 1",
        (waiting_pid,),
    ).fetchone()
    if row is None:
        return None
    pid, user, application, state, since = row
    who = ", ".join(str(part) for part in (user, application) if part)
    return f"held by pid {pid} ({who}, {state or 'active'} for {since})"
