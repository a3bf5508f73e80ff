"""Connections with the settings every backup-tui transaction uses, and the waits on them bounded."""

from __future__ import annotations

import configparser
import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tui.db.errors import DatabaseError, ErrorKind, friendly_message
from tui.db.watchdog import WatchedConnection, seconds
from tui.model import ServerInfo

F = TypeVar("F", bound=Callable[..., object])

# psycopg logs what it ignores while winding down a pipeline whose connection is gone ("error
# ignored terminating ..."); the error itself reaches the user in one line (Session). Without a
# handler, Python's last resort would print that log record raw on the terminal as a second line.
logging.getLogger("psycopg").addHandler(logging.NullHandler())
logging.getLogger("psycopg").propagate = False


@dataclass(frozen=True, slots=True)
class Settings:
    """How to reach the database and how patient write sessions are."""

    dsn: str | None = None
    read_only: bool = False
    lock_timeout: str = "5s"
    statement_timeout: str = "1h"  # applies to writes (SET LOCAL in their transaction)
    read_timeout: str = "10min"  # the statement timeout of every other transaction
    as_of: str | None = None  # retention decisions as of this time (backup.as_of); None: now
    connect_timeout: int = 10  # unless the DSN, PGCONNECT_TIMEOUT or the service file says
    requested_by: str | None = None  # the person behind the login (--by): recorded with writes
    prune_redundant: bool = False  # the plan drops backups identical to a newer one (prune --redundant)

    def resolved_dsn(self) -> str:
        """`--dsn`, else DATABASE_URL, else '' (libpq's PG* variables, service file, .pgpass)."""
        return self.dsn or os.environ.get("DATABASE_URL", "")


# Every transaction of ours starts here, so its settings hold whatever the session had (a caller's
# PGOPTIONS, a pooler handing each transaction another server connection): only pg_catalog (then
# pg_temp) on the search_path, so nothing planted in another schema resolves; our lock_timeout and
# statement_timeout; our what-if date or none (a backup.as_of leaked in from elsewhere never
# applies); and a check every second that we are still there (client_connection_check_interval,
# PostgreSQL 14+), so a statement of a client that vanished (an SSH drop) stops within a second;
# who asked (backup.requested_by, recorded by migration 014's defaults), or nobody; and whether the
# plan drops redundant copies (backup.prune_redundant), only when asked.
_PREAMBLE = (
    "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), "
    "pg_catalog.set_config('lock_timeout', %s, true), pg_catalog.set_config('backup.as_of', %s, true), "
    "pg_catalog.set_config('statement_timeout', %s, true), "
    "pg_catalog.set_config('client_connection_check_interval', '1s', true), "
    "pg_catalog.set_config('backup.requested_by', %s, true), "
    "pg_catalog.set_config('backup.prune_redundant', %s, true)"
)

# libpq's own names for what we default, and the variables that set them: the user's word wins.
_OURS_UNLESS_SET = {
    "connect_timeout": "PGCONNECT_TIMEOUT",
    # A peer that vanished (a dropped link) is noticed in about a minute instead of TCP's two hours.
    "keepalives": None,
    "keepalives_idle": None,
    "keepalives_interval": None,
    "keepalives_count": None,
    "tcp_user_timeout": None,
}


def service_files() -> list[Path]:
    """libpq's lookup order: PGSERVICEFILE (else ~/.pg_service.conf), then the system file in
    PGSYSCONFDIR (else `pg_config --sysconfdir`)."""
    files = [Path(os.environ["PGSERVICEFILE"]) if os.environ.get("PGSERVICEFILE") else Path.home() / ".pg_service.conf"]
    sysconf = os.environ.get("PGSYSCONFDIR")
    if not sysconf and shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--sysconfdir"], capture_output=True, text=True, check=False)
        sysconf = done.stdout.strip() or None
    if sysconf:
        files.append(Path(sysconf) / "pg_service.conf")
    return files


def _service_params(name: str | None) -> dict[str, str]:
    """The parameters a service of the service files sets (the first file that defines it)."""
    if not name:
        return {}
    for path in service_files():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            if parser.read(path, encoding="utf-8") and parser.has_section(name):
                return dict(parser.items(name))
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
    return {}


def declared_place(dsn: str) -> tuple[str | None, str | None, str | None]:
    """(host, port, dbname) as a DSN and the service it names say, without connecting (None where
    neither says; libpq's environment defaults are not guessed)."""
    try:
        given = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return None, None, None
    params = {**_service_params(str(given.get("service") or "") or None), **{k: str(v) for k, v in given.items()}}
    return params.get("host"), params.get("port"), params.get("dbname")


def connection_defaults(dsn: str, connect_timeout: int) -> dict[str, object]:
    """What backup-tui asks libpq for, minus what the user set (in the DSN, the environment or the
    service file): as psql, the user's connect_timeout and application_name win."""
    try:
        given = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        given = {}
    given = {**_service_params(str(given.get("service") or os.environ.get("PGSERVICE") or "")), **given}
    ours: dict[str, object] = {
        "connect_timeout": connect_timeout,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 60_000,  # ms: unacknowledged data for a minute means the link is gone
    }
    chosen = {
        key: value
        for key, value in ours.items()
        if key not in given and not (_OURS_UNLESS_SET[key] and os.environ.get(str(_OURS_UNLESS_SET[key])))
    }
    # psycopg times the connection itself, from what it is given (not from the service file, which
    # only libpq reads): the user's connect_timeout is passed on explicitly, whatever set it.
    user_timeout = given.get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT")
    chosen["connect_timeout"] = int(str(user_timeout)) if str(user_timeout or "").isdigit() else connect_timeout
    return chosen


def connect(settings: Settings) -> psycopg.Connection:
    """Open an autocommit connection; every call on it runs in a transaction of its own (transaction())."""
    dsn = settings.resolved_dsn()
    try:
        conn = WatchedConnection.connect(
            dsn,
            autocommit=True,
            # libpq's fallback: an application_name in the DSN or PGAPPNAME wins, as with psql.
            fallback_application_name="backup-tui",
            # Supabase's transaction pooler cannot keep prepared statements between transactions.
            prepare_threshold=None,
            **connection_defaults(dsn, settings.connect_timeout),  # type: ignore[arg-type]
        )
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect: {friendly_message(exc)}", ErrorKind.CANNOT_CONNECT) from exc
    # Nothing is set for the session: through a transaction pooler (PgBouncer, Supabase's) a
    # session setting stays on the server connection for the next client of the pool. Every
    # setting of ours is transaction-local (transaction() below); the one statement run outside a
    # transaction, CALL backup.run_due_backups(), is written for any search_path.
    return conn


def pipelined(fn: F) -> F:
    """Mark a database operation whose statements may travel in pipeline mode (Session.run and
    Session.write then send them so): its transaction's BEGIN and settings go with its first
    statement, its independent statements together, a round trip for each result it waits for plus
    the COMMIT. Only for operations without COPY, server-side cursors, several statements in one
    text, or an error caught around a single statement (in a pipeline, an error surfaces when a
    result is first waited for)."""
    fn.pipelined = True  # type: ignore[attr-defined]
    return fn


def is_pipelined(fn: Callable[..., object]) -> bool:
    return bool(getattr(fn, "pipelined", False))


@contextmanager
def transaction(
    conn: psycopg.Connection, settings: Settings, statement_timeout: str | None = None, *, pipeline: bool = False
) -> Iterator[None]:
    """A transaction (a savepoint inside one) whose settings are fixed by its first statement, all
    transaction-local (SET LOCAL): nothing of ours outlives it on a pooled server connection. Each
    statement is bounded by `statement_timeout` (default: the read timeout), on the server and, for
    a server that stopped answering, on this side too (tui.db.watchdog). With `pipeline` (an
    outer transaction only), in pipeline mode: see `pipelined`."""
    timeout = statement_timeout or settings.read_timeout
    limits = conn.__dict__.setdefault("limits", []) if hasattr(conn, "__dict__") else []
    # Ours already open (in pipeline mode the server has not said so yet), or the caller's.
    nested = bool(limits) or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    limits.append(seconds(timeout))
    try:
        if nested:
            with conn.transaction():  # inside one of ours: a savepoint, its settings set again
                conn.execute(_opening(settings, timeout, begin=False))
                yield
        elif pipeline:
            with _pipelined(conn, _opening(settings, timeout, begin=False)):
                yield
        else:
            with _outer(conn, _opening(settings, timeout, begin=True)):
                yield
    finally:
        limits.pop()


def _opening(settings: Settings, timeout: str, begin: bool) -> sql.Composed:
    """The transaction's first message: BEGIN and every setting, one statement after the other in
    one simple query, so a transaction costs one round trip more than its statements, not two.
    The values are literals (the simple protocol takes no parameters), quoted by psycopg."""
    values = [
        settings.lock_timeout,
        settings.as_of or "",
        timeout,
        settings.requested_by or "",
        "on" if settings.prune_redundant else "",
    ]
    text = _PREAMBLE.replace("%s", "{}")
    if settings.read_only:
        text += ", pg_catalog.set_config('transaction_read_only', 'on', true)"
    statement = sql.SQL(text).format(*map(sql.Literal, values))
    return sql.SQL("BEGIN; {}").format(statement) if begin else statement


@contextmanager
def _outer(conn: psycopg.Connection, opening: sql.Composed) -> Iterator[None]:
    """BEGIN (with `opening`) ... COMMIT, or ROLLBACK when the block raised. Not psycopg's
    Transaction: it sends BEGIN on its own, a round trip of its own. A transaction() inside sees
    the transaction open and takes a savepoint through psycopg as before."""
    try:
        conn.execute(opening)
        yield
    except BaseException:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):  # a connection gone: the server rolled back
                conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def _pipelined(conn: psycopg.Connection, settings: sql.Composed) -> Iterator[None]:
    """BEGIN, the settings, the block's statements and COMMIT in pipeline mode: nothing waits until
    the block first needs a result, so a read of one statement is two round trips (its own, with
    BEGIN and the settings; the COMMIT's), and a block that sends its statements before reading
    any pays one round trip for all of them."""
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute(settings)
            yield
            conn.execute("COMMIT")
    except BaseException:
        # A failed statement made the server skip the rest until the Sync, COMMIT included: the
        # transaction is still open (aborted), or never began if the block raised first.
        if not conn.closed and not conn.broken and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):  # a connection gone: the server rolled back
                conn.execute("ROLLBACK")
        raise


@contextmanager
def write_transaction(conn: psycopg.Connection, settings: Settings, *, pipeline: bool = False) -> Iterator[None]:
    """One write in its own transaction (or savepoint), bounded by statement_timeout."""
    with transaction(conn, settings, settings.statement_timeout, pipeline=pipeline):
        yield


def send_server_info(conn: psycopg.Connection) -> Callable[[], ServerInfo]:
    """Sends the question who and where we are; how to read the answer (user, host, port,
    database, server version, read-only)."""
    info = conn.info
    cur = conn.execute(
        "SELECT session_user, current_database(), current_setting('server_version'), "
        "current_setting('transaction_read_only') = 'on'"
    )

    def read() -> ServerInfo:
        row = cur.fetchone()
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

    return read


def server_info(conn: psycopg.Connection) -> ServerInfo:
    """User, host, port, database and server version of a connection."""
    return send_server_info(conn)()
