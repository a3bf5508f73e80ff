"""Keys arriving in one read are handled in the order they arrive (#23). Over SSH, in a paste, or
from tmux, several keys come in one read; 0.2 ran a "priority" binding (d, A, enter) before the
ones typed ahead of it: `*d` lost the `*` and the drop dialog acted on the cursor row only (also
`id`, `*A`); in the fleet, `Down Enter` opened the database the cursor had just left. Each burst is
one tmux send-keys: one write into the terminal."""

from __future__ import annotations

import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import installed_script
from tests.e2e.test_tmux import Terminal
from tests.fixtures import TOTAL


@pytest.fixture
def term(seeded_dsn: str, tmp_path: Path) -> Iterator[Terminal]:
    session = f"bt-{uuid.uuid4().hex[:8]}"
    app = f"{shlex.quote(installed_script())} --dsn {shlex.quote(seeded_dsn)}"
    command = f"env -u COLUMNS -u LINES TERM=xterm-256color {app}; sleep 600"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    terminal = Terminal(session)
    terminal.wait_for(lambda s: f"{TOTAL} backups" in s and "measuring" not in s, "the inventory")
    try:
        yield terminal
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _confirm_count(screen: str) -> int:
    match = re.search(r"Type (\d+) to confirm", screen)
    return int(match[1]) if match else 1 if "Type the backup's name" in screen else 0


@pytest.mark.parametrize("burst", ["*d", "id", "ud"])
def test_marks_typed_right_before_d_are_what_d_drops(term: Terminal, burst: str) -> None:
    term.keys(burst)
    screen = term.wait_for(lambda s: "to confirm" in s, "the drop dialog")
    expected = 1 if burst == "ud" else TOTAL - 1  # every row shown but the unregistered one (not ours to drop)
    assert _confirm_count(screen) in (expected, TOTAL), screen


def test_a_filter_typed_with_enter_then_mark_all_and_drop(term: Terminal, seeded_dsn: str) -> None:
    with psycopg.connect(seeded_dsn) as conn:  # the status most rows have: the burst must mark them all
        status, count = conn.execute(
            "SELECT status, count(*) FROM backup.backup_inventory WHERE status <> 'unregistered' "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
    assert count > 1
    term.keys(f"/status:{status}\r*d")
    screen = term.wait_for(lambda s: "to confirm" in s, "the drop dialog")
    assert _confirm_count(screen) == count, screen


def test_down_enter_in_the_fleet_opens_the_row_the_cursor_moved_to(
    seeded_dsn: str, admin_dsn: str, tmp_path: Path
) -> None:
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    second = f"backup_tui_burst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(second)))
    other = make_conninfo(seeded_dsn, dbname=second)
    config = tmp_path / "config" / "backup-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[fleet]\ntargets = [{seeded_dsn!r}, {other!r}]\n".replace("'", '"'))
    session = f"bt-{uuid.uuid4().hex[:8]}"
    app = f"{shlex.quote(installed_script())} fleet --tui"
    command = (
        f"env -u COLUMNS -u LINES TERM=xterm-256color XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'config'))} {app}"
    )
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30", command], check=True)
    terminal = Terminal(session)
    try:
        first = conninfo_to_dict(seeded_dsn)["dbname"]
        shown = (first[:16], second[:16])  # the labels are cut at 30 columns (a host before them)
        # Both rows answered: the table is sorted by what they answered, so the row below the
        # cursor is read only once no answer can still re-sort it.
        screen = terminal.wait_for(
            lambda s: (
                all(n in s for n in shown) and sum(line.rstrip().endswith("reachable") for line in s.splitlines()) == 2
            ),
            "both databases answered",
        )
        rows = [line for line in screen.splitlines() if any(n in line for n in shown)]
        below = second if shown[0] in rows[0] else first  # the row under the cursor after Down
        terminal.keys("Down", "Enter")  # one burst
        # A database's screen: its summary, and its name in the header (the server's version may
        # not fit beside a long fleet label, so it is not what is waited for).
        screen = terminal.wait_for(
            lambda s: "backups" in s and any("/" + n in s.splitlines()[0] for n in (first, second)),
            "a database opened",
        )
        assert "/" + below in screen.splitlines()[0], screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(second)))
