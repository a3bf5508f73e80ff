"""The installed `backup-tui` in a real terminal (tmux), driven with keys like a person would."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import installed_script
from tests.fixtures import TOTAL

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, session: str) -> None:
        self.session = session

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def text(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session], check=True, capture_output=True, text=True
        ).stdout

    def wait_for(self, predicate, what: str, timeout: float = 30) -> str:
        """Poll the screen until `predicate(screen)` holds (a condition, not a fixed delay)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")
            time.sleep(0.05)


@pytest.fixture
def terminal(seeded_dsn: str, tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    session = f"bt-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit-status"
    # COLUMNS/LINES inherited from the test runner would override the pane's real size.
    app = f"{shlex.quote(installed_script())} --dsn {shlex.quote(seeded_dsn)}"
    command = f"env -u COLUMNS -u LINES TERM=xterm-256color {app}; echo $? > {shlex.quote(str(status))}; sleep 600"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
    try:
        yield Terminal(session), status
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _rows(screen: str) -> list[str]:
    """Backup names in table order (cells are separated by at least two spaces, names by one)."""
    return [re.split(r"\s{2,}", line.strip())[0] for line in screen.splitlines() if "_backup" in line]


def test_user_sorts_filters_and_quits_in_a_real_terminal(terminal: tuple[Terminal, Path]) -> None:
    term, status = terminal
    # The first paint shows catalog size estimates; exact sizes follow ("measuring…" goes away).
    screen = term.wait_for(lambda s: f"{TOTAL} backups" in s and "measuring" not in s, "the inventory")
    assert "size ▼" in screen
    biggest_first = _rows(screen)
    assert biggest_first[0].startswith("orders_backup_2026_05")

    term.keys("s")  # again: smallest first (rows without a size stay last)
    screen = term.wait_for(lambda s: "size ▲" in s, "the reversed sort")
    assert _rows(screen)[:2] == [
        "Mixed Case_backup_x",
        "orders_backup_20260101",
    ]  # the smallest (48 KiB each, after the fixture's VACUUM), by name

    term.keys("/", "i", "n", "v")
    screen = term.wait_for(lambda s: f"1 of {TOTAL}" in s, "the filter")
    assert _rows(screen) == ["invoices_backup_2025_04_27_120000"], screen

    term.keys("Enter", "q")
    term.wait_for(lambda s: status.exists() and status.read_text().strip() != "", "the exit status", timeout=15)
    assert status.read_text().strip() == "0"


def _pids_running(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_app_exits_when_the_terminal_goes_away(terminal: tuple[Terminal, Path], seeded_dsn: str) -> None:
    term, _ = terminal
    term.wait_for(lambda s: f"{TOTAL} backups" in s, "the inventory")
    marker = f"backup-tui --dsn {seeded_dsn}"
    assert _pids_running(marker), "the app should be running"
    subprocess.run(["tmux", "kill-session", "-t", term.session], check=True)  # like an SSH drop: SIGHUP
    deadline = time.monotonic() + 15
    while _pids_running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_running(marker) == [], "backup-tui lingered after its terminal went away"


def test_user_creates_then_drops_a_backup_through_the_modals(terminal: tuple[Terminal, Path], seeded_dsn: str) -> None:
    import psycopg

    term, status = terminal
    term.wait_for(lambda s: f"{TOTAL} backups" in s, "the inventory")
    term.keys("c")
    term.wait_for(lambda s: "Back up a table" in s, "the create form")
    term.keys("experts", "Tab", "before the e2e test", "Enter")
    term.wait_for(lambda s: f"{TOTAL + 1} backups" in s, "the new backup in the inventory")
    with psycopg.connect(seeded_dsn) as conn:
        name = conn.execute(
            "SELECT backup_table_name FROM backup.backup_metadata WHERE backup_reason = 'before the e2e test'"
        ).fetchone()[0]
    assert name.startswith("experts_backup_")
    term.keys("d")  # the cursor is on the new backup
    term.wait_for(lambda s: "Type the backup's name to confirm" in s, "the drop confirmation")
    term.keys(name, "Enter")
    term.wait_for(lambda s: "dropped 1" in s, "the drop summary")
    term.keys("Enter")
    term.wait_for(lambda s: f"{TOTAL} backups" in s, "the inventory without it")
    with psycopg.connect(seeded_dsn) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
            ).fetchone()[0]
            == 0
        )
    term.keys("q")
    term.wait_for(lambda s: status.exists() and status.read_text().strip() != "", "the exit status", timeout=15)
    assert status.read_text().strip() == "0"


def test_archive_and_restore_show_progress_in_a_real_terminal(dsn: str, tmp_path: Path) -> None:
    """The CLI's progress line (terminals only): everything the pane received is recorded with
    pipe-pane, so the transient bar is checked without racing it. At 80 columns it is one line
    redrawn in place: when the commands end, only their result lines are on screen."""
    import psycopg

    from tui.db.backups import create_backup
    from tui.db.schema import install

    with psycopg.connect(dsn, autocommit=True) as conn:
        install(conn)
        conn.execute(
            "CREATE TABLE public.events AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 200000) g"
        )
        name = create_backup(conn, "events", "progress test", "monthly")
    session = f"bt-{uuid.uuid4().hex[:8]}"
    log, done = tmp_path / "pane.log", tmp_path / "done"
    script = shlex.quote(installed_script())
    archive = f"{script} archive {name} --to {tmp_path}/cold --yes --dsn {shlex.quote(dsn)}"
    restore = f"{script} restore {name} --as events_back --dsn {shlex.quote(dsn)}"
    steps = f"{archive} && {restore}; echo $? > {done}"
    command = f"env -u COLUMNS -u LINES TERM=xterm-256color sh -c {shlex.quote(steps)}; sleep 600"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "30", "sleep 600"], check=True)
    try:
        subprocess.run(["tmux", "pipe-pane", "-o", "-t", session, f"cat >> {shlex.quote(str(log))}"], check=True)
        subprocess.run(["tmux", "respawn-pane", "-k", "-t", session, command], check=True)
        Terminal(session).wait_for(lambda _: done.exists() and done.read_text().strip() != "", "archive and restore")
        screen = Terminal(session).text()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert done.read_text().strip() == "0"
    shown = [line for line in screen.splitlines() if line.strip()]
    assert not [line for line in shown if "archiving" in line or "restoring" in line or "verifying" in line], screen
    assert any(line.startswith(f"archived {name}") for line in shown) and any("restored" in line for line in shown)
    output = log.read_text(errors="replace")
    stamp = name.split("_backup_")[1]
    assert re.search(rf"archiving \S*{stamp}", output) and "verifying" in output and "/200,000 rows" in output
    lines = [re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", line) for line in output.splitlines()]
    assert all(len(line) <= 80 for line in lines if "━" in line)  # every bar fits the 80 columns
    assert "restoring" in output and "restored" in output and "200,000 rows" in output
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM public.events_back").fetchone()[0] == 200000


def test_hostile_names_reach_the_terminal_as_text_never_as_commands(dsn: str, tmp_path: Path) -> None:
    """Every byte the pane received is recorded (pipe-pane): a table named with ESC [2J and a reason
    with ESC ]0;…BEL (retitle) are drawn escaped and never sent raw."""
    import psycopg

    from tests.hostile import ESCAPE_TABLE, seed_hostile

    with psycopg.connect(dsn, autocommit=True) as conn:
        seed_hostile(conn)
    session = f"bt-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "pane.log"
    app = f"env -u COLUMNS -u LINES TERM=xterm-256color {shlex.quote(installed_script())} --dsn {shlex.quote(dsn)}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "30", "sleep 600"], check=True)
    try:
        subprocess.run(["tmux", "pipe-pane", "-o", "-t", session, f"cat >> {shlex.quote(str(log))}"], check=True)
        subprocess.run(["tmux", "respawn-pane", "-k", "-t", session, app], check=True)
        term = Terminal(session)
        screen = term.wait_for(lambda s: "esc\\x1b[2Jhome" in s, "the escaped name")
        term.keys("/", "escape-table-no-such")  # nothing special: just more keys through the app
        term.keys("Escape", "/", "esc", "Enter", "Enter")  # details of that backup: its reason
        screen = term.wait_for(lambda s: "\\x1b[31mred\\x1b[0m" in s, "the escaped reason")
        term.keys("q", "q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    received = log.read_bytes()
    assert ESCAPE_TABLE.encode() not in received and b"\x1b]0;pwned" not in received
    assert b"\x1b[31mred" not in received
    assert "esc\\x1b[2Jhome" in screen or "\\x1b[31mred" in screen
