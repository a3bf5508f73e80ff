"""Database errors turned into one line a DBA understands."""

from __future__ import annotations

import psycopg
from psycopg import errors as pgerr


class DatabaseError(Exception):
    """A database problem already phrased for the user."""


class Cancelled(DatabaseError):
    """The user stopped a long action; what it had done so far was undone."""


def friendly_message(exc: BaseException) -> str:
    """One line for any database error: what happened, and what to do where we know."""
    if isinstance(exc, DatabaseError):
        return str(exc)
    if not isinstance(exc, psycopg.Error):
        return str(exc) or type(exc).__name__
    diag = exc.diag
    text = str(exc).strip()
    primary = diag.message_primary or (text.splitlines()[0] if text else type(exc).__name__)
    if isinstance(exc, pgerr.LockNotAvailable):
        return f"lock timeout: the table is in use by another session; nothing was changed, retry later ({primary})"
    if isinstance(exc, pgerr.QueryCanceled):
        return f"cancelled: {primary}; nothing was changed"
    if isinstance(exc, pgerr.InsufficientPrivilege):
        return f"permission denied: {primary}"
    if isinstance(exc, pgerr.ReadOnlySqlTransaction):
        return "the session is read-only: nothing was changed"
    if isinstance(exc, pgerr.DiskFull):
        return f"the database server is out of disk space; nothing was created ({primary})"
    if isinstance(exc, psycopg.OperationalError) and diag.sqlstate is None:
        return " ".join(text.split()) or "the connection to the database was lost"
    message = primary
    if diag.message_hint:
        message += f" (hint: {diag.message_hint})"
    return message
