"""Round trips counted from libpq's own protocol trace: a turn of the conversation, the client's
messages (a simple Query; Parse/Bind/Execute... ended by a Sync or, in pipeline mode, a Flush) then
the server's answer. Counted, not timed: the figure does not depend on the machine."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from psycopg import pq

from tui.db import Database


def round_trips(database: Database, call: Callable[[], object]) -> tuple[int, list[str]]:
    """How many times `call` waited for the server on the session's connection, and what it sent."""
    database.server_info()  # connected: the connection itself is not what is counted
    conn = database.session._conn
    assert conn is not None
    with tempfile.NamedTemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            conn.pgconn.untrace()
        lines = [line.split("\t") for line in Path(trace.name).read_text().splitlines()]
    sent = [fields for fields in lines if fields[0] == "F"]
    turns = sum(1 for before, after in zip(lines, lines[1:], strict=False) if before[0] == "F" and after[0] == "B")
    statements = [fields[-1] for fields in sent if len(fields) > 2 and fields[2] in ("Parse", "Query")]
    return turns, statements
