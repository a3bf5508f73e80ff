"""Database errors with a kind, in words any front end can show (none says which key to press)."""

from __future__ import annotations

import enum

import psycopg


class ErrorKind(enum.Enum):
    LOCK_TIMEOUT = "lock timeout"
    PERMISSION = "permission denied"
    CONNECTION_LOST = "connection lost"
    CANNOT_CONNECT = "cannot connect"
    NOT_FOUND = "not found"
    REFUSED = "refused"  # the SQL API said no: an internal table, a dependant, already archived...
    INVALID = "invalid input"
    CANCELLED = "cancelled"
    READ_ONLY = "read-only"
    DISK_FULL = "disk full"
    STORAGE = "storage"  # the archive target (a directory, S3) failed
    DAMAGED = "damaged"  # an archive does not match its manifest or the catalogue
    OTHER = "other"


class DatabaseError(Exception):
    """A database problem, phrased for the user, with its kind for the front end to act on."""

    def __init__(self, message: str, kind: ErrorKind = ErrorKind.OTHER) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def message(self) -> str:
        return str(self)


class Cancelled(DatabaseError):
    """The user stopped a long action; what it had done so far was undone."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.CANCELLED)


class ConnectionLost(DatabaseError):
    """The server went away; the next call connects again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.CONNECTION_LOST)


# SQLSTATEs the SQL API raises on purpose, by what they mean to a user.
_KINDS: dict[str, ErrorKind] = {
    "55P03": ErrorKind.LOCK_TIMEOUT,
    "42501": ErrorKind.PERMISSION,
    "42P01": ErrorKind.NOT_FOUND,  # no such table / backup
    "P0002": ErrorKind.NOT_FOUND,  # already dropped
    "42809": ErrorKind.REFUSED,  # not a backup (the schema's own table, a view...)
    "2BP01": ErrorKind.REFUSED,  # something depends on it
    "42710": ErrorKind.REFUSED,  # already registered / already exists
    "42P07": ErrorKind.REFUSED,  # a table of that name exists
    "22023": ErrorKind.INVALID,
    "57014": ErrorKind.CANCELLED,
    "25006": ErrorKind.READ_ONLY,
    "53100": ErrorKind.DISK_FULL,
}


def kind_of(exc: psycopg.Error) -> ErrorKind:
    return kind_of_state(exc.diag.sqlstate)


def kind_of_state(sqlstate: str | None) -> ErrorKind:
    """What an SQLSTATE means to a user (also for errors a batch call reports per backup)."""
    if sqlstate in _KINDS:
        return _KINDS[sqlstate]
    if sqlstate and sqlstate.startswith("08"):
        return ErrorKind.CONNECTION_LOST
    if sqlstate and sqlstate.startswith("22"):
        return ErrorKind.INVALID
    return ErrorKind.OTHER


def friendly_message(exc: BaseException) -> str:
    """One line for any database error: what happened, and what to do where we know."""
    if isinstance(exc, DatabaseError):
        return str(exc)
    if not isinstance(exc, psycopg.Error):
        return str(exc) or type(exc).__name__
    diag = exc.diag
    text = str(exc).strip()
    primary = diag.message_primary or (text.splitlines()[0] if text else type(exc).__name__)
    if isinstance(exc, psycopg.OperationalError) and diag.sqlstate is None:
        return " ".join(text.split()) or "the connection to the database was lost"
    return phrase(diag.sqlstate, primary, diag.message_hint)


def phrase(sqlstate: str | None, primary: str, hint: str | None = None) -> str:
    """The words for a server error from its SQLSTATE, message and hint: one rule for errors
    raised to us and errors a batch call reports per backup."""
    if sqlstate == "55P03":
        if primary.startswith("backup.") and " is held by " in primary:  # claim_backup named the holder
            return f"lock timeout: {primary}; nothing was changed, retry later"
        return f"lock timeout: the table is in use by another session; nothing was changed, retry later ({primary})"
    if sqlstate == "57014":
        return f"cancelled: {primary}; nothing was changed"
    if sqlstate == "42501":
        return f"permission denied: {primary}"
    if sqlstate == "25006":
        return "the session is read-only: nothing was changed"
    if sqlstate == "53100":
        return f"the database server is out of disk space; nothing was created ({primary})"
    return f"{primary} (hint: {hint})" if hint else primary


def translate(exc: psycopg.Error) -> DatabaseError:
    """A psycopg error as a DatabaseError with its kind and one line of words."""
    return DatabaseError(friendly_message(exc), kind_of(exc))
