"""PgBouncer (Debian's) in transaction mode in front of the test server, with a pool of one server
connection: every client of the pool gets the same server session, so whatever one leaves behind
the next one sees. Where pgbouncer is missing (a laptop) its tests skip and say so; .ci/run sets
BACKUP_TUI_REQUIRE_PGBOUNCER=1, which turns that skip into a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.proxy import Proxy

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def bouncer_port(admin_dsn: str) -> Iterator[int]:
    if not Path(PGBOUNCER).exists():
        why = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("BACKUP_TUI_REQUIRE_PGBOUNCER"):
            pytest.fail(f"the pooler tests must run here: {why}")
        pytest.skip(why)
    server = conninfo_to_dict(admin_dsn)
    host = server.get("host") or "/var/run/postgresql"
    forward = None
    if host.startswith("/"):  # a unix socket the pooler's user may not reach (pytest's 0700 dirs): over TCP
        forward = Proxy(admin_dsn)
        host, server["port"] = "127.0.0.1", str(forward.port)
    root = Path(tempfile.mkdtemp(prefix="backup-tui-pgbouncer-"))
    port = _free_port()
    user = server.get("user") or "postgres"
    (root / "users.txt").write_text(f'"{user}" ""\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={server.get('port') or 5432} user={user}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmax_client_conn = 50\n"
        "ignore_startup_parameters = extra_float_digits\n"
        f"logfile = {root / 'pgbouncer.log'}\npidfile = {root / 'pgbouncer.pid'}\n"
    )
    argv = [PGBOUNCER, str(root / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        for child in root.iterdir():
            shutil.chown(child, "postgres", "postgres")
        argv = ["runuser", "-u", "postgres", "--", *argv]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start: {process.stderr.read().decode()}") from None
            time.sleep(0.1)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
        if forward is not None:
            forward.close()


@pytest.fixture
def pooled_dsn(dsn: str, bouncer_port: int) -> str:
    """The test's database, through the pooler."""
    params = conninfo_to_dict(dsn)
    return make_conninfo(
        host="127.0.0.1", port=str(bouncer_port), dbname=params["dbname"], user=params.get("user") or "postgres"
    )


def server_settings(pooled_dsn: str) -> dict[str, str | None]:
    """What the pool's one server connection has now, asked by another client of the pool."""
    with psycopg.connect(pooled_dsn, autocommit=True, prepare_threshold=None) as other:
        row = other.execute(
            "SELECT current_setting('search_path'), current_setting('lock_timeout'), "
            "current_setting('statement_timeout'), current_setting('default_transaction_read_only'), "
            "current_setting('backup.as_of', true), current_setting('backup.size_estimates', true), "
            "current_setting('role'), pg_backend_pid()"
        ).fetchone()
    assert row is not None
    names = ("search_path", "lock_timeout", "statement_timeout", "read_only", "as_of", "size_estimates", "role", "pid")
    found = dict(zip(names, row, strict=True))
    # A custom setting set once with SET LOCAL stays known to the session with its reset value,
    # '' (PostgreSQL's placeholder): not a value of ours, and read as none by backup.as_of().
    for custom in ("as_of", "size_estimates"):
        found[custom] = found[custom] or None
    return found
