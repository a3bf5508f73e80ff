"""On call in a real terminal (tmux) at 60×20, 80×24 and 120×40: the grouped view, a filtered
drop, a lock wait that says whose, and the demo's second start."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import installed_script
from tests.e2e.test_tmux import Terminal
from tests.fixtures import TOTAL

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@contextmanager
def app_in_terminal(dsn: str, width: int, height: int, *extra: str) -> Iterator[Terminal]:
    session = f"bt-{uuid.uuid4().hex[:8]}"
    app = " ".join(shlex.quote(a) for a in (installed_script(), "--dsn", dsn, *extra))
    command = f"env -u COLUMNS -u LINES TERM=xterm-256color {app}; sleep 600"
    size = ["-x", str(width), "-y", str(height)]
    subprocess.run(["tmux", "new-session", "-d", "-s", session, *size, command], check=True)
    try:
        yield Terminal(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _loaded(screen: str) -> bool:
    return f"{TOTAL} backups" in screen and "measuring" not in screen and "estimated" not in screen


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_grouped_view_in_a_real_terminal(seeded_dsn: str, size: tuple[int, int]) -> None:
    with app_in_terminal(seeded_dsn, *size) as term:
        term.wait_for(_loaded, "the inventory")
        term.keys("g")
        screen = term.wait_for(lambda s: "source table" in s and "%" in s, "the grouped view")
        lines = screen.splitlines()
        assert all(len(line) <= size[0] for line in lines)
        rows = [line for line in lines if "%" in line and "source table" not in line]
        assert rows[0].split()[0] == "orders"  # the biggest first
        assert "█" in rows[0]
        term.keys("Enter")
        screen = term.wait_for(lambda s: "source:=orders" in s, "orders' backups")
        names = [line.split()[0] for line in screen.splitlines() if "_backup_" in line]
        assert names and all(n.startswith("orders") for n in names)
        term.keys("Escape")
        term.wait_for(lambda s: "source table" in s, "back in the grouped view")
        term.keys("g")
        term.wait_for(lambda s: f"{TOTAL} backups" in s and "source:=" not in s, "every backup again")


def test_a_filtered_drop_in_a_real_terminal(live_dsn: str) -> None:
    """Filter to the expired backups, mark them all, drop them with the typed count."""
    with psycopg.connect(live_dsn) as conn:
        expired = [
            r[0] for r in conn.execute("SELECT backup_table_name FROM backup.backup_inventory WHERE status = 'expired'")
        ]
    assert expired
    with app_in_terminal(live_dsn, 80, 24) as term:
        term.wait_for(_loaded, "the inventory")
        term.keys("/", "status:expired", "Enter", "*")
        term.wait_for(lambda s: f"{len(expired)} of {TOTAL}" in s and f"{len(expired)} marked" in s, "marked")
        term.keys("d")
        term.wait_for(lambda s: "to confirm" in s, "the drop confirmation")
        term.keys(expired[0] if len(expired) == 1 else str(len(expired)), "Enter")  # one: its name
        term.wait_for(lambda s: f"dropped {len(expired)}" in s, "the drop summary")
        term.keys("Enter")
        term.wait_for(lambda s: f"0 of {TOTAL - len(expired)}" in s, "the filter, now empty")
    with psycopg.connect(live_dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = ANY(%s)", (expired,)
        ).fetchone()[0]
    assert left == 0


def test_a_lock_wait_says_whose_in_a_real_terminal(seeded_dsn: str) -> None:
    target = "orders_backup_2026_05_30_120000"
    with psycopg.connect(seeded_dsn, application_name="night-migration") as holder:
        holder.execute(sql.SQL("LOCK TABLE backup.{} IN ACCESS SHARE MODE").format(sql.Identifier(target)))
        with app_in_terminal(seeded_dsn, 80, 24, "--lock-timeout", "60s") as term:
            term.wait_for(_loaded, "the inventory")
            term.keys("/", target, "Enter", "d")
            term.wait_for(lambda s: "to confirm" in s, "the drop confirmation")
            term.keys(target, "Enter")
            screen = term.wait_for(lambda s: "night-migration" in " ".join(s.split()), "the lock holder")
            assert f"pid {holder.info.backend_pid}" in " ".join(screen.split())
            term.keys("Escape")
            term.wait_for(lambda s: "failed 1" in s, "stopped")
    with psycopg.connect(seeded_dsn) as conn:
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"backup.{target}",)).fetchone()[0]


def _start_demo(data_dir: Path) -> tuple[subprocess.Popen[str], str, float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [installed_script(), "demo", "--no-tui", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    dsn = proc.stdout.readline().strip()  # printed once the database is ready
    return proc, dsn, time.monotonic() - started


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(2)
    _, err = proc.communicate(timeout=60)
    return err


def test_the_demo_says_what_it_does_and_its_second_start_reuses_the_cluster(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    proc, dsn, _ = _start_demo(data_dir)
    with psycopg.connect(dsn) as conn:
        first = conn.execute("SELECT count(*) FROM backup.backup_metadata").fetchone()[0]
        results = [r[0] for r in conn.execute("SELECT last_result FROM backup.backup_schedule ORDER BY last_result")]
    assert results == ["failed", "ok"]  # two schedules: the screen is never empty, and one shows a failure
    err = _stop(proc)
    assert "creating the demo's PostgreSQL" in err and "about 60 backups" in err and "ready" in err
    proc, dsn, took = _start_demo(data_dir)
    with psycopg.connect(dsn) as conn:
        again = conn.execute("SELECT count(*) FROM backup.backup_metadata").fetchone()[0]
    err = _stop(proc)
    assert "starting the demo's PostgreSQL" in err and "about 60 backups" not in err  # not seeded twice
    assert again == first and first > 50
    print(f"demo second start: {took:.2f} s")  # the figure for the README; no timed assertion


def test_the_emergency_prune_on_the_demo_deletes_first_then_archives_the_rest(tmp_path: Path) -> None:
    """#26: in a real terminal at 80×24, on the demo: X drops only the deletes (no folder asked),
    then x archives what is left to archive, each with its count typed; the database agrees."""
    proc, dsn, _ = _start_demo(tmp_path / "demo")
    try:
        with psycopg.connect(dsn) as conn:
            due = dict(conn.execute("SELECT decision, count(*) FROM backup.plan_prune() GROUP BY 1").fetchall())
        deletes, archives = due.get("delete", 0), due.get("archive", 0)
        assert deletes > 1 and archives > 1  # the demo has both, so the two steps mean something
        cold = tmp_path / "cold"
        env = f"BACKUP_TUI_ARCHIVE_TO={shlex.quote(str(cold))} XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))}"
        session = f"bt-{uuid.uuid4().hex[:8]}"
        app = " ".join(shlex.quote(a) for a in (installed_script(), "--dsn", dsn))
        command = f"env -u COLUMNS -u LINES TERM=xterm-256color {env} {app}; sleep 600"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True)
        term = Terminal(session)
        try:
            term.wait_for(lambda s: "backups" in s and "measuring" not in s, "the inventory")
            term.keys("p")
            term.wait_for(lambda s: "Prune preview" in s and f"delete {deletes} backups" in s, "the preview")
            term.keys("X")
            term.wait_for(lambda s: f"Type {deletes} to confirm" in s and "Archive to" not in s, "delete only")
            term.keys(str(deletes), "Enter")
            term.wait_for(lambda s: f"dropped {deletes}" in s, "the deletes done", timeout=60)
            term.keys("Enter")
            term.wait_for(lambda s: "delete 0 backups" in s and f"{archives} to archive" in s, "the plan again")
            term.keys("x")
            term.wait_for(lambda s: f"Type {archives} to confirm" in s, "the archive dialog")
            term.keys(str(archives), "Enter")
            term.wait_for(lambda s: f"archived {archives}" in s, "the archives done", timeout=120)
            term.keys("Enter")
            term.wait_for(lambda s: "delete 0 backups" in s and "0 to archive" in s, "nothing left to do")
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        with psycopg.connect(dsn) as conn:
            left = dict(conn.execute("SELECT decision, count(*) FROM backup.plan_prune() GROUP BY 1").fetchall())
            archived = conn.execute("SELECT count(*) FROM backup.backup_metadata WHERE archive_location IS NOT NULL")
            assert (left.get("delete", 0), left.get("archive", 0)) == (0, 0)
            assert archived.fetchone()[0] >= archives
        assert len([p for p in cold.iterdir() if (p / "manifest.json").exists()]) == archives
    finally:
        _stop(proc)
