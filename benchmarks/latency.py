"""backup-tui at a distance: every command and the TUI's start through a proxy on loopback that
delays each chunk by a one-way delay (no root, no tc), beside psql doing the same work through the
same proxy, in the same run, and the round trips each one makes, counted by the proxy.

    python -m benchmarks.latency                       # 0, 25 and 50 ms round trip, the machine's PostgreSQL 15
    python -m benchmarks.latency --rtt 25 --runs 1     # .ci/run's smoke
    python -m benchmarks.latency --dsn postgresql://…  # another server (needs CREATEDB)

A round trip is a turn of the conversation: the client speaks after the server has (or first).
Counted per connection by the proxy, so a figure does not depend on the machine's noise; the
connection's own turns (startup, authentication, TLS) are counted apart, as `connect`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

HERE = Path(__file__).parent
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@dataclass
class Conversation:
    """One client connection through the proxy: its turns, and when it began talking SQL."""

    turns: int = 0
    startup_turns: int | None = None  # turns when the server first said ReadyForQuery
    said: list[list[str]] = field(default_factory=list)  # per turn, the SQL the client sent (no TLS)
    _client_spoke_last: bool = False
    _pending: bytes = b""
    _started: bool = False  # the untyped startup packet is past
    _opaque: bool = False  # TLS: nothing to read
    _ssl_asked: bool = False  # an SSLRequest awaits the server's one byte: S (TLS follows) or N

    def heard(self, from_client: bool, chunk: bytes) -> None:
        if from_client and not self._client_spoke_last:
            self.turns += 1
            self.said.append([])
        self._client_spoke_last = from_client
        if not from_client and self._ssl_asked:
            self._ssl_asked, self._opaque = False, chunk[:1] == b"S"
        elif from_client and not self._opaque:
            self._read(chunk)
        # ReadyForQuery ('Z', length 5) ends the startup: the first one marks the connection made.
        if not from_client and self.startup_turns is None and b"Z\x00\x00\x00\x05" in chunk:
            self.startup_turns = self.turns

    def _read(self, chunk: bytes) -> None:
        """The client's messages: Query and Parse texts are kept (for --explain)."""
        self._pending += chunk
        while True:
            if not self._started:
                if len(self._pending) < 8:
                    return
                length = int.from_bytes(self._pending[:4], "big")
                code = int.from_bytes(self._pending[4:8], "big")
                if code == 80877103:  # SSLRequest: encrypted from here if the server says S
                    self._ssl_asked, self._pending = True, self._pending[8:]
                    return
                if len(self._pending) < length:
                    return
                self._pending = self._pending[length:]
                self._started = code != 80877104  # GSSENCRequest: another startup follows
                continue
            if len(self._pending) < 5:
                return
            kind, length = self._pending[:1], int.from_bytes(self._pending[1:5], "big")
            if len(self._pending) < 1 + length:
                return
            body, self._pending = self._pending[5 : 1 + length], self._pending[1 + length :]
            if kind == b"Q":
                self.said[-1].append(body.rstrip(b"\0").decode(errors="replace"))
            elif kind == b"P":
                _, _, rest = body.partition(b"\0")  # the statement's name, then its text
                self.said[-1].append(rest.partition(b"\0")[0].decode(errors="replace"))


@dataclass
class Tally:
    connections: int = 0
    connect_turns: int = 0  # handshakes, TLS and authentication
    turns: int = 0  # after connecting: the SQL conversation itself
    conversations: list[Conversation] = field(default_factory=list)

    @classmethod
    def of(cls, conversations: list[Conversation], tls_connect: int | None = None) -> Tally:
        """Under TLS the proxy cannot see ReadyForQuery: a connection's own turns are then those a
        bare connection made (`tls_connect`, measured once)."""
        connect = sum(
            c.startup_turns
            if c.startup_turns is not None
            else (tls_connect if c._opaque and tls_connect is not None else c.turns)
            for c in conversations
        )
        total = sum(c.turns for c in conversations)
        return cls(len(conversations), connect, total - connect, conversations)


class DelayProxy:
    """Forwards 127.0.0.1:port to the server, each chunk delivered `delay` seconds after it arrived
    (in order, each way): a round trip costs 2 × delay more than on loopback."""

    def __init__(self, upstream_host: str, upstream_port: int, delay: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.delay = delay
        self.conversations: list[Conversation] = []
        self.tls_connect: int | None = None  # a bare TLS connection's turns (calibrate())
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        conversation = Conversation()
        self.conversations.append(conversation)
        with contextlib.suppress(asyncio.CancelledError):  # the proxy is closing
            await asyncio.gather(
                self._pump(client_reader, up_writer, conversation, True),
                self._pump(up_reader, client_writer, conversation, False),
                return_exceptions=True,
            )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conversation: Conversation, from_client: bool
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                wait = due - self._loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()
            writer.close()

        delivering = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(65536):
                conversation.heard(from_client, chunk)
                queue.put_nowait((self._loop.time() + self.delay, chunk))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((0.0, b""))
        await delivering

    def calibrate(self, dsn: str) -> None:
        """Under TLS: how many turns a connection makes before its first query (one that runs a
        query and closes makes two more: the query's, the Terminate's)."""
        self.tally()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT 1")
        done = self.tally().conversations
        if done and done[0]._opaque:
            self.tls_connect = done[0].turns - 2

    def tally(self) -> Tally:
        """The conversations since the last tally (only those that ended are complete)."""
        done, self.conversations = self.conversations, []
        return Tally.of(done, self.tls_connect)

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(timeout=5)


# -- what is measured ------------------------------------------------------------------------------


@dataclass
class Measure:
    what: str
    rtt_ms: float
    seconds: float  # median
    tally: Tally
    psql: str | None = None  # what psql did, for the baseline row
    baseline: float | None = None
    baseline_tally: Tally | None = None


CLI = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


def backup_tui(dsn: str, *args: str, findings: bool = False) -> None:
    """The command as a user runs it (a new process: its import and its connection count)."""
    done = subprocess.run([*CLI, *args, "--dsn", dsn], capture_output=True, text=True, check=False)
    if done.returncode != 0 and not (findings and done.returncode == 1):  # check: 1 is findings
        raise RuntimeError(f"backup-tui {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")


def listed(dsn: str) -> None:
    """What `list` asks of the database (connect, then its one transaction), in this process: the
    command's figure without Python's start and imports (~0.35 s here), which psql, a C program,
    does not pay."""
    from tui.db import Database, Settings
    from tui.model import ListQuery

    with Database(Settings(dsn=dsn)) as database:
        database.listed(ListQuery())


def psql(dsn: str, command: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-d", dsn, "-c", command], check=True, stdout=subprocess.DEVNULL)


def psql_script(dsn: str, script: str) -> None:
    """A script too long for one argument (the kernel caps one at 128 kB), read from stdin."""
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", "-"],
        input=script,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def measured(proxy: DelayProxy, runs: int, call: Callable[[], object], setup: Callable[[], object] | None = None):
    samples, tally = [], Tally()
    for _ in range(runs):
        if setup:
            setup()
        proxy.tally()
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
        tally = proxy.tally()
    return statistics.median(samples), tally


def seed(dsn: str, backups: int, tables: int) -> None:
    """`backups` backups of `tables` tables (the issue's 200 of 20), through our own SQL API."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        from tui.db.schema import install

        install(conn)
        for t in range(tables):
            conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, v text)").format(sql.Identifier(f"t{t}")))
            conn.execute(
                sql.SQL("INSERT INTO {} SELECT g, md5(g::text) FROM generate_series(1, 100) g").format(
                    sql.Identifier(f"t{t}")
                )
            )
        for b in range(backups):
            conn.execute(
                "SELECT backup.create_table_backup(%s::text, 'seeded'::text, %s::text, 'public'::text)",
                (f"t{b % tables}", "daily" if b % 2 else "manual"),
            )
        conn.execute("UPDATE backup.backup_metadata SET backup_date = now() - (random() * interval '30 days')")
        conn.execute("ANALYZE")


def bench(dsn: str, rtt_ms: float, runs: int, prune: int = 0, tables: int = 20) -> list[Measure]:
    params = conninfo_to_dict(dsn)
    proxy = DelayProxy(params.get("host") or "127.0.0.1", int(params.get("port") or 5432), rtt_ms / 2000)
    far = make_conninfo(dsn, host="127.0.0.1", port=str(proxy.port))
    proxy.calibrate(far)
    out: list[Measure] = []

    Call = Callable[[], object]

    def row(what: str, call: Call, psql_what: str | None = None, baseline: Call | None = None,
            setup: Call | None = None) -> None:  # fmt: skip
        seconds, tally = measured(proxy, runs, call, setup)
        m = Measure(what, rtt_ms, seconds, tally, psql_what)
        if baseline is not None:
            m.baseline, m.baseline_tally = measured(proxy, runs, baseline, setup)
        out.append(m)

    try:
        row("list", lambda: backup_tui(far, "list"), r"\dt+ backup.*", lambda: psql(far, r"\dt+ backup.*"))
        row("list, in process (no interpreter start)", lambda: listed(far), r"\dt+ backup.*",
            lambda: psql(far, r"\dt+ backup.*"))  # fmt: skip
        row("list --json", lambda: backup_tui(far, "list", "--json"), "SELECT * FROM backup.backup_inventory",
            lambda: psql(far, "SELECT * FROM backup.backup_inventory"))  # fmt: skip
        row("prune (plan)", lambda: backup_tui(far, "prune"), "SELECT * FROM backup.plan_prune()",
            lambda: psql(far, "SELECT * FROM backup.plan_prune()"))  # fmt: skip
        row("check --fast", lambda: backup_tui(far, "check", "--fast", findings=True))
        row("check", lambda: backup_tui(far, "check", findings=True))
        row("schedule list", lambda: backup_tui(far, "schedule", "list"))
        row("create (100 rows)", lambda: backup_tui(far, "create", "t0", "--reason", "latency", "--kind", "manual"))
        victims: list[str] = []

        def ten() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                victims[:] = [
                    conn.execute(
                        "SELECT backup.create_table_backup(%s::text, 'to drop'::text, 'manual'::text, 'public'::text)",
                        (f"t{i}",),
                    ).fetchone()[0]  # type: ignore[index]
                    for i in range(10)
                ]

        def script() -> str:
            return "".join(
                f"BEGIN; DROP TABLE backup.{n}; "
                f"DELETE FROM backup.backup_metadata WHERE backup_table_name = '{n}'; COMMIT;\n"
                for n in victims
            )

        row("drop 10", lambda: backup_tui(far, "drop", *victims, "--yes"),
            "the 10 DROP + DELETE in one -c", lambda: psql(far, script()), setup=ten)  # fmt: skip
        if prune:
            doomed: list[str] = []

            def expired() -> None:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(
                        "SELECT backup.create_table_backup('t' || (g %% %s::integer)::text, 'to prune'::text, "
                        "'daily'::text, 'public'::text) FROM generate_series(1, %s::integer) g",
                        (tables, prune),
                    )
                    conn.execute(
                        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' "
                        "WHERE backup_reason = 'to prune'"
                    )
                    doomed[:] = [
                        r[0]
                        for r in conn.execute(
                            "SELECT backup_table_name FROM backup.plan_prune() WHERE decision = 'delete'"
                        )
                    ]

            def prune_script() -> str:
                # One statement (a DO block), so psql sends it in one message as -c would: read
                # from a file, psql sends each statement of a script apart, a round trip each.
                body = "".join(
                    f"DROP TABLE backup.{n}; DELETE FROM backup.backup_metadata WHERE backup_table_name = '{n}';\n"
                    for n in doomed
                )
                return f"DO $script$ BEGIN\n{body}END $script$;\n"

            row(f"prune --apply ({prune} expired)", lambda: backup_tui(far, "prune", "--apply", "--yes"),
                "the same DROP + DELETE as one statement", lambda: psql_script(far, prune_script()),
                setup=expired)  # fmt: skip
        if shutil.which("tmux"):
            out.extend(tui_start(far, proxy, rtt_ms, runs))
    finally:
        proxy.close()
    return out


def tui_start(far: str, proxy: DelayProxy, rtt_ms: float, runs: int) -> list[Measure]:
    """The TUI in a real terminal (tmux, 120x40) through the proxy: process start to the first rows
    on screen, and to the finished first screen (no size still estimated, nothing loading, and the
    proxy quiet for a while: flags and exact sizes have arrived). Turns counted at each moment."""
    quiet = max(0.5, 6 * rtt_ms / 1000)
    first, whole, first_tally, whole_tally = [], [], Tally(), Tally()
    for _ in range(runs):
        session = f"latency-{uuid.uuid4().hex[:6]}"
        command = "env -u COLUMNS -u LINES " + shlex.join([*CLI, "--dsn", far])
        proxy.tally()
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
        try:

            def pane(session: str = session) -> str:
                done = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True)
                return done.stdout

            while not ("_backup_" in pane() and "backups" in pane()):
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"no rows after 60 s:\n{pane()}")
                time.sleep(0.005)
            first.append(time.perf_counter() - start)
            first_tally = Tally.of(list(proxy.conversations), proxy.tls_connect)
            last_turns, last_change = first_tally.turns, time.perf_counter()
            while True:
                now = time.perf_counter()
                turns = Tally.of(list(proxy.conversations), proxy.tls_connect).turns
                if turns != last_turns:
                    last_turns, last_change = turns, now
                screen = pane()
                if now - last_change >= quiet and "estimated" not in screen and "loading" not in screen:
                    break
                if now - start > 120:
                    raise RuntimeError(f"the first screen did not settle in 120 s:\n{screen}")
                time.sleep(0.01)
            whole.append(last_change - start)
            whole_tally = Tally.of(list(proxy.conversations), proxy.tls_connect)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
            proxy.tally()
    return [
        Measure("TUI: start to first rows", rtt_ms, statistics.median(first), first_tally),
        Measure("TUI: the finished first screen", rtt_ms, statistics.median(whole), whole_tally),
    ]


def print_table(measures: list[Measure]) -> None:
    print("| what | RTT | backup-tui | round trips (connect + SQL, connections) | psql, same answer | psql's |")
    print("|---|---|---|---|---|---|")
    for m in measures:
        t = m.tally
        base = f"{m.baseline:.2f} s ({m.psql})" if m.baseline is not None else "—"
        bt = m.baseline_tally
        base_turns = f"{bt.connect_turns} + {bt.turns}" if bt is not None else "—"
        print(
            f"| {m.what} | {m.rtt_ms:g} ms | {m.seconds:.2f} s | {t.connect_turns} + {t.turns} ({t.connections}) "
            f"| {base} | {base_turns} |"
        )


def explain(dsn: str, command: list[str]) -> int:
    params = conninfo_to_dict(dsn)
    proxy = DelayProxy(params.get("host") or "127.0.0.1", int(params.get("port") or 5432), 0)
    try:
        backup_tui(make_conninfo(dsn, host="127.0.0.1", port=str(proxy.port)), *command, findings=True)
        tally = proxy.tally()
    finally:
        proxy.close()
    for n, conversation in enumerate(tally.conversations, 1):
        print(f"connection {n}: {conversation.startup_turns} turns to connect, {conversation.turns} in all")
        for turn, said in enumerate(conversation.said, 1):
            if said:
                print(f"  {turn:3}: " + " | ".join(" ".join(s.split())[:160] for s in said))
    return 0


PG15 = Path(os.environ.get("BACKUP_TUI_PG15_BIN", "/usr/lib/postgresql/15/bin"))


@contextlib.contextmanager
def tls_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster that speaks TLS (a self-signed certificate, made here by
    openssl) on a free port: a DSN with sslmode=require, as hosted databases are reached. initdb
    refuses root: as root it runs as the `postgres` OS user."""
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="backup-tui-tls-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = functools.partial(subprocess.run, check=True, capture_output=True)
    run([*as_postgres, str(PG15 / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    run([*as_postgres, "openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(data / "server.key"), "-out", str(data / "server.crt")])  # fmt: skip
    (data / "server.key").chmod(0o600)
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\nssl = on\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
    run([*as_postgres, str(PG15 / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start"])
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=require"
    finally:
        subprocess.run([*as_postgres, str(PG15 / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("BACKUP_TUI_BENCH_DSN", DEFAULT_DSN))
    parser.add_argument("--rtt", type=float, action="append", help="round trip in ms (repeatable; 0, 25, 50)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backups", type=int, default=200)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument(
        "--prune", type=int, default=1000, help="expired backups for `prune --apply` (made before each run; 0: skip)"
    )
    parser.add_argument(
        "--explain",
        metavar="ARGS",
        help="run `backup-tui ARGS` once on --dsn's database (installed already) and print each round trip's SQL",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="against a throwaway PostgreSQL 15 cluster of its own that speaks TLS (sslmode=require), not --dsn",
    )
    args = parser.parse_args()
    if args.explain:
        return explain(args.dsn, args.explain.split())
    if shutil.which("psql") is None:
        print("needs psql (Debian: postgresql-client)", file=sys.stderr)
        return 2
    if args.tls:
        if not (PG15 / "initdb").exists() or shutil.which("openssl") is None:
            print(f"--tls needs PostgreSQL 15's binaries in {PG15} and openssl", file=sys.stderr)
            return 2
        with tls_cluster() as dsn:
            args.dsn = dsn
            return measure(args)
    return measure(args)


def measure(args: argparse.Namespace) -> int:
    name = f"backup_tui_latency_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(args.dsn, dbname=name)
    try:
        seed(dsn, args.backups, args.tables)
        measures = []
        for rtt in args.rtt or [0, 25, 50]:
            measures += bench(dsn, rtt, args.runs, args.prune, args.tables)
        print_table(measures)
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
