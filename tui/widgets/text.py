"""How the TUI words things that come from elsewhere: errors from tui.db."""

from __future__ import annotations

from tui.db import DatabaseError, ErrorKind


def error_text(exc: DatabaseError) -> str:
    """A database error as the TUI says it: what happened, and the key that helps."""
    if exc.kind is ErrorKind.CONNECTION_LOST:
        return f"{exc} — press r to reconnect"
    return str(exc)
