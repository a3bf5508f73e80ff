"""A TCP proxy on loopback for tests: forwards to a PostgreSQL server (TCP or a unix socket), and
can stall (keep every connection open and stop passing bytes either way) — a server that completed
the handshake and then stopped answering. Threads, no root, no tc."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class Proxy:
    def __init__(self, dsn: str) -> None:
        params = conninfo_to_dict(dsn)
        host = params.get("host") or "/var/run/postgresql"
        port = int(params.get("port") or 5432)
        self._upstream: tuple[int, object] = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}") if host.startswith("/") else (socket.AF_INET, (host, port))
        )
        self._dsn = params
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.stalled = threading.Event()
        self.stall_on_query = False  # stall at the first query a client sends after its handshake
        self.holding = threading.Event()  # set once bytes (either way) are held by a stall: someone waits
        self.connections = 0
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def dsn(self, **overrides: str) -> str:
        """The proxied server's DSN (its database and user), through this proxy."""
        keep = {k: v for k, v in self._dsn.items() if k in ("dbname", "user", "password")}
        return make_conninfo("", **{**keep, "host": "127.0.0.1", "port": str(self.port), **overrides})

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            family, address = self._upstream
            upstream = socket.socket(family, socket.SOCK_STREAM)  # type: ignore[arg-type]
            try:
                upstream.connect(address)  # type: ignore[arg-type]
            except OSError:
                client.close()
                continue
            self.connections += 1
            self._sockets += [client, upstream]
            for source, sink, from_client in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, from_client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_client and self.stall_on_query and data[:1] in (b"P", b"Q"):
                    self.stalled.set()  # Parse or Query: the handshake is over, the first statement comes
                while self.stalled.is_set() and not self._closed:
                    self.holding.set()
                    self.stalled.wait(0.05)  # hold the bytes: the peer waits for ever
                    if not self.stalled.is_set():
                        break
                    threading.Event().wait(0.05)
                if self._closed:
                    break
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed = True
        self.stalled.clear()
        with contextlib.suppress(OSError):
            self._listener.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()


@contextmanager
def proxy(dsn: str) -> Iterator[Proxy]:
    p = Proxy(dsn)
    try:
        yield p
    finally:
        p.close()
