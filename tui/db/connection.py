"""Connections with the session settings every backup-tui session uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from tui.db.errors import DatabaseError, ErrorKind, friendly_message
from tui.model import ServerInfo


@dataclass(frozen=True, slots=True)
class Settings:
    """How to reach the database and how patient write sessions are."""

    dsn: str | None = None
    read_only: bool = False
    lock_timeout: str = "5s"
    statement_timeout: str = "1h"  # applies to writes only (SET LOCAL in their transaction)
    as_of: str | None = None  # retention decisions as of this time (backup.as_of); None: now
    connect_timeout: int = 10

    def resolved_dsn(self) -> str:
        """`--dsn`, else DATABASE_URL, else '' (libpq's PG* variables, service file, .pgpass)."""
        return self.dsn or os.environ.get("DATABASE_URL", "")


# Every transaction of ours starts here, so its settings hold whatever the session had (a caller's
# PGOPTIONS, a pooler handing each transaction another server connection): only pg_catalog (then
# pg_temp) on the search_path, so nothing planted in another schema resolves; our lock_timeout;
# our what-if date or none (a backup.as_of leaked in from elsewhere never applies).
_PREAMBLE = (
    "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), "
    "pg_catalog.set_config('lock_timeout', %s, true), pg_catalog.set_config('backup.as_of', %s, true)"
)


def connect(settings: Settings) -> psycopg.Connection:
    """Open an autocommit connection; every call on it runs in a transaction of its own (transaction())."""
    try:
        conn = psycopg.connect(
            settings.resolved_dsn(),
            autocommit=True,
            application_name="backup-tui",
            connect_timeout=settings.connect_timeout,
            # Supabase's transaction pooler cannot keep prepared statements between transactions.
            prepare_threshold=None,
        )
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect: {friendly_message(exc)}", ErrorKind.CANNOT_CONNECT) from exc
    try:
        # The same settings for the session too, for anything run outside transaction().
        conn.execute(
            "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), "
            "pg_catalog.set_config('lock_timeout', %s, false), pg_catalog.set_config('backup.as_of', %s, false)",
            (settings.lock_timeout, settings.as_of or ""),
        )
        if settings.read_only:
            conn.execute("SET default_transaction_read_only = on")
    except psycopg.Error as exc:
        conn.close()
        raise DatabaseError(friendly_message(exc), ErrorKind.INVALID) from exc
    return conn


@contextmanager
def transaction(conn: psycopg.Connection, settings: Settings) -> Iterator[None]:
    """A transaction (a savepoint inside one) whose settings are fixed by its first statement."""
    with conn.transaction():
        conn.execute(_PREAMBLE, (settings.lock_timeout, settings.as_of or ""))
        if settings.read_only:
            conn.execute("SELECT pg_catalog.set_config('transaction_read_only', 'on', true)")
        yield


@contextmanager
def write_transaction(conn: psycopg.Connection, settings: Settings) -> Iterator[None]:
    """One write in its own transaction (or savepoint), bounded by statement_timeout."""
    with transaction(conn, settings):
        conn.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)", (settings.statement_timeout,))
        yield


def server_info(conn: psycopg.Connection) -> ServerInfo:
    """User, host, port, database and server version of a connection."""
    info = conn.info
    row = conn.execute(
        "SELECT session_user, current_database(), current_setting('server_version'), "
        "current_setting('default_transaction_read_only') = 'on'"
    ).fetchone()
    assert row is not None
    user, dbname, version, read_only = row
    return ServerInfo(
        user=user,
        host=info.host or "local",
        port=str(info.port),
        dbname=dbname,
        version=version.split(" ")[0],
        read_only=read_only,
    )
