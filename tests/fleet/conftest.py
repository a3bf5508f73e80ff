"""A fleet for the tests: a libpq service file naming real databases — seeded, without the schema,
on the 2025 layout — one address that refuses connections and one that accepts them and never
answers (a listening socket on loopback that never speaks), so timeouts are real too."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.fixtures import seed_ui_fixture
from tests.legacy import build_legacy


@dataclass(frozen=True)
class Fleet:
    service_file: Path
    dsns: dict[str, str]  # service name -> DSN of the reachable ones


def _service(name: str, dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    lines = [f"[{name}]"] + [f"{k}={v}" for k, v in params.items() if k in ("host", "port", "user", "dbname")]
    return "\n".join(lines) + "\n"


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture
def fleet(admin_dsn: str, tmp_path: Path, blackhole: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    names = {label: f"backup_tui_fleet_{label}_{uuid.uuid4().hex[:8]}" for label in ("prod", "empty", "legacy")}
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        for db in names.values():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    dsns = {label: make_conninfo(admin_dsn, dbname=db) for label, db in names.items()}
    try:
        with psycopg.connect(dsns["prod"], autocommit=True) as conn:
            seed_ui_fixture(conn)
        with psycopg.connect(dsns["legacy"], autocommit=True) as conn:
            build_legacy(conn)
        text = "".join(_service(label, dsn) for label, dsn in dsns.items())
        text += "[down]\nhost=127.0.0.1\nport=1\ndbname=x\nuser=postgres\n"
        text += f"[silent]\nhost=127.0.0.1\nport={blackhole}\ndbname=x\nuser=postgres\nconnect_timeout=2\n"
        path = tmp_path / "pg_service.conf"
        path.write_text(text)
        monkeypatch.setenv("PGSERVICEFILE", str(path))
        monkeypatch.setenv("PGSYSCONFDIR", str(tmp_path / "no-system-file"))
        yield Fleet(path, dsns)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            for db in names.values():
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
