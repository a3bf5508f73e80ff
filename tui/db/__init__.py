"""The only code that speaks SQL (no Textual, no Rich: the import-linter contracts check).

Front ends use `Database`; the modules beside it are functions of a connection, one per SQL API
call, which tests of the SQL layer call directly.
"""

from tui.db.check import FIX_EXPOSURE
from tui.db.connection import Settings, connect
from tui.db.database import Database
from tui.db.errors import Cancelled, ConnectionLost, DatabaseError, ErrorKind
from tui.db.watchdog import WATCH


def interrupt_all() -> int:
    """End at once every wait on the server in this process (the app is quitting)."""
    return WATCH.interrupt_all()


__all__ = [
    "FIX_EXPOSURE",
    "Cancelled",
    "ConnectionLost",
    "Database",
    "DatabaseError",
    "ErrorKind",
    "Settings",
    "connect",
    "interrupt_all",
]
