"""Bounded waits against a server that stopped answering.

A healthy server ends a statement at its statement_timeout; one that completed the handshake and
then went silent (a stopped process, a proxy or link that swallows every byte: its kernel still
acknowledges, so TCP keepalives see nothing) never does, and a thread waiting on it waits for ever.
Every transaction of ours is watched: one still running GRACE seconds past the statement timeout
in force has its socket shut down, so the wait ends with an error (the server rolls the
transaction back when it notices). `interrupt_all` does the same at once for every connection of
this process: a quitting app never waits for a worker stuck on the network.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
import weakref
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen

RV = TypeVar("RV")

GRACE = 5.0  # seconds past a statement timeout before a silent server counts as gone
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(timeout: str) -> float | None:
    """A PostgreSQL timeout setting ('5s', '10min', '1500' = ms) in seconds; None for 0 (no limit)
    or what PostgreSQL would refuse anyway."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?\s*", timeout)
    if not match:
        return None
    value = float(match[1]) * _UNITS[match[2] or "ms"]
    return value or None


def shut_down(conn: psycopg.Connection) -> None:
    """End whatever waits on this connection's socket, from any thread: the waiting call gets an
    error (the connection is then broken). Not a close: the connection's owner still closes it."""
    with contextlib.suppress(Exception):
        fd = conn.pgconn.socket
        if fd < 0:
            return
        dup = socket.socket(fileno=os.dup(fd))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()


class _Watch:
    """One thread for the whole process: waits past their deadline get their socket shut down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waits: dict[int, tuple[weakref.ReferenceType[psycopg.Connection], float]] = {}
        self._fired: dict[int, str] = {}
        self._thread: threading.Thread | None = None

    def arm(self, conn: psycopg.Connection, limit: float) -> None:
        """A wait on `conn` begins that must end within `limit` seconds plus GRACE."""
        with self._lock:
            self._fired.pop(id(conn), None)
            self._waits[id(conn)] = (weakref.ref(conn), time.monotonic() + limit + GRACE)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="backup-tui watchdog", daemon=True)
                self._thread.start()

    def disarm(self, conn: psycopg.Connection) -> None:
        with self._lock:
            self._waits.pop(id(conn), None)

    def why(self, conn: psycopg.Connection) -> str | None:
        """Why the watchdog ended this connection's wait, if it did."""
        with self._lock:
            return self._fired.pop(id(conn), None)

    def interrupt_all(self) -> int:
        """End every wait in flight in this process at once (the app is quitting); how many."""
        with self._lock:
            busy = [(key, ref()) for key, (ref, _) in self._waits.items()]
            for key, _ in busy:
                self._fired[key] = "the app was quitting"
        for _, conn in busy:
            if conn is not None:
                shut_down(conn)
        return len(busy)

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self._lock:
                late = [(key, ref()) for key, (ref, deadline) in self._waits.items() if now > deadline]
                for key, _ in late:
                    self._fired[key] = "the server stopped answering"
                    del self._waits[key]
            for _, conn in late:
                if conn is not None:
                    shut_down(conn)


WATCH = _Watch()


class WatchedConnection(psycopg.Connection[Any]):
    """A connection whose every wait on the server (a statement, a fetch, a COPY, a COMMIT) is
    bounded by the statement timeout our transaction set (`limits`, innermost last) plus GRACE."""

    def wait(self, gen: PQGen[RV], *args: Any, **kwargs: Any) -> RV:
        limits: list[float | None] = self.__dict__.get("limits") or []
        limit = limits[-1] if limits else None
        # A connection already gone (the watchdog shut it; psycopg then still winds down a
        # pipeline) is not armed again: arming would forget why it went.
        if limit is None or self.pgconn.status == psycopg.pq.ConnStatus.BAD:
            return super().wait(gen, *args, **kwargs)
        WATCH.arm(self, limit)
        try:
            return super().wait(gen, *args, **kwargs)
        finally:
            WATCH.disarm(self)
