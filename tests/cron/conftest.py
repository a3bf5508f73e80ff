"""A throwaway PostgreSQL 15 cluster with pg_cron (Debian's postgresql-15-cron), for the tests that
prove our jobs really run under it. initdb refuses root, so as root it runs as the `postgres` OS
user. Where the binaries or the package are missing (a laptop), the tests skip and say so; .ci/run
sets BACKUP_TUI_REQUIRE_PG_CRON=1, which turns that skip into a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BIN = Path(os.environ.get("BACKUP_TUI_PG15_BIN", "/usr/lib/postgresql/15/bin"))
CRON_DB = "crontest"


@dataclass(frozen=True)
class CronCluster:
    port: int
    socket_dir: str

    def dsn(self, dbname: str = CRON_DB) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


def _missing() -> str | None:
    if not (BIN / "initdb").exists():
        return f"PostgreSQL 15 binaries are not in {BIN} (apt-get install postgresql-15)"
    libdir = subprocess.run([str(BIN / "pg_config"), "--pkglibdir"], capture_output=True, text=True).stdout.strip()
    if not (Path(libdir) / "pg_cron.so").exists():
        return f"pg_cron is not installed for PostgreSQL 15 ({libdir}/pg_cron.so; apt-get install postgresql-15-cron)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb cannot run as postgres"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def cron_cluster() -> Iterator[CronCluster]:
    why = _missing()
    if why:
        if os.environ.get("BACKUP_TUI_REQUIRE_PG_CRON"):
            pytest.fail(f"pg_cron tests must run here: {why}")
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="backup-tui-cron-"))
    data, log = root / "data", root / "log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
            f"shared_preload_libraries = 'pg_cron'\ncron.database_name = '{CRON_DB}'\n"
            "cron.use_background_workers = on\nmax_worker_processes = 20\n"
        )
    subprocess.run(
        _as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        cluster = CronCluster(port, str(root))
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {CRON_DB}")
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_cron")
        yield cluster
    finally:
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)
