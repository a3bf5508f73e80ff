"""A Session: one connection shared by the app's worker threads, reconnecting after a loss.

It knows nothing of what runs on it: operations (the other modules of tui.db) are functions of a
connection, and `run` gives them one under a lock, turning psycopg's errors into DatabaseErrors
with a kind.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import psycopg

from tui.db.connection import Settings, connect, is_pipelined, transaction, write_transaction
from tui.db.errors import ConnectionLost, friendly_message, translate
from tui.db.watchdog import WATCH

P = ParamSpec("P")
T = TypeVar("T")


class Session:
    """Serialises calls from worker threads onto one connection.

    After a lost connection the failed call raises ConnectionLost and the next call connects
    again, so a front end recovers without restarting. Every write is one transaction, so a lost
    one changed nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(connection, *args, **kwargs) in one transaction of this session (connect.transaction:
        its settings fixed first), connecting if needed."""

        def in_transaction(conn: psycopg.Connection) -> T:
            with transaction(conn, self.settings, pipeline=is_pipelined(fn)):
                return fn(conn, *args, **kwargs)

        return self._on_connection(in_transaction)

    def read(
        self, fn: Callable[Concatenate[psycopg.Connection, P], Callable[[], T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """fn(connection, ...) in one transaction in pipeline mode (see connection.pipelined), where
        fn sends its last statements and returns how to read their results: that is called after
        the COMMIT, which travelled with those statements, so the last step costs one round trip,
        not two (a read whose steps each wait for the one before is one round trip per step)."""

        def in_transaction(conn: psycopg.Connection) -> Callable[[], T]:
            with transaction(conn, self.settings, pipeline=True):
                return fn(conn, *args, **kwargs)

        return self._on_connection(lambda conn: in_transaction(conn)())

    def write(self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(connection, ...) as one write: one transaction whose first statement sets everything
        (search_path, lock_timeout, the write statement_timeout, what-if), transaction-locally.
        A `pipelined` fn sends BEGIN and that preamble with its first statement: two round trips
        for one backup (that statement's, the COMMIT's)."""

        def in_write(conn: psycopg.Connection) -> T:
            with write_transaction(conn, self.settings, pipeline=is_pipelined(fn)):
                return fn(conn, *args, **kwargs)

        return self._on_connection(in_write)

    def send_write(
        self, fn: Callable[Concatenate[psycopg.Connection, P], Callable[[], T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A write whose COMMIT travels with its statement (one round trip): fn sends the write and
        returns how to read its result, called once the COMMIT is done. If the statement fails the
        server skips the COMMIT and the transaction is rolled back: only a write that succeeded is
        committed. For writes whose result is reported, never inspected before committing."""

        def in_write(conn: psycopg.Connection) -> Callable[[], T]:
            with write_transaction(conn, self.settings, pipeline=True):
                return fn(conn, *args, **kwargs)

        return self._on_connection(lambda conn: in_write(conn)())

    def run_own(self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(connection, ...) that opens and commits its transactions itself (with
        connection.transaction), for a step that must know whether its COMMIT happened (archives)."""
        return self._on_connection(lambda conn: fn(conn, *args, **kwargs))

    def _on_connection(self, fn: Callable[[psycopg.Connection], T]) -> T:
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self.settings)
            conn = self._conn
            try:
                return fn(conn)
            except psycopg.Error as exc:
                if conn.closed or conn.broken:
                    self._conn = None
                    why = WATCH.why(conn)
                    with contextlib.suppress(Exception):
                        conn.close()
                    if why:
                        raise ConnectionLost(f"{why}: the connection was closed; the last action was not done") from exc
                    raise ConnectionLost(
                        f"connection lost ({friendly_message(exc)}); the last action was not done"
                    ) from exc
                raise translate(exc) from exc

    @property
    def backend_pid(self) -> int | None:
        """The server process of this session's connection (read without waiting for the lock)."""
        conn = self._conn
        return conn.info.backend_pid if conn is not None and not conn.closed else None

    def cancel(self) -> None:
        """Cancel the statement running now (from any thread); harmless when idle."""
        conn = self._conn
        if conn is not None and not conn.closed:
            conn.cancel_safe()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
