"""The only code that speaks SQL. No Textual imports here (tests/test_layering.py checks)."""

from tui.db.actions import create_backup, drop_backup
from tui.db.connection import Settings, connect, server_info
from tui.db.errors import DatabaseError, friendly_message
from tui.db.inventory import load_inventory, source_tables
from tui.db.schema import exposure_warnings, install, schema_state
from tui.db.session import ConnectionLost, Database

__all__ = [
    "ConnectionLost",
    "Database",
    "DatabaseError",
    "Settings",
    "connect",
    "create_backup",
    "drop_backup",
    "exposure_warnings",
    "friendly_message",
    "install",
    "load_inventory",
    "schema_state",
    "server_info",
    "source_tables",
]
