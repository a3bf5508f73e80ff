"""A server that completes the handshake and then stops answering (#23). In 0.2 `fleet --dsn
<healthy> --dsn <stalled> --json` printed nothing after 90 s (not even the healthy row); the TUI
sat on "connecting…", `q` blanked the screen but the process lived on, and Ctrl-C did nothing.
Every wait is bounded now: a statement silent past its timeout (and a grace) ends in one line,
the fleet marks the stalled target and prints the others, and `q` or Ctrl-C leaves within two
seconds whatever a worker is doing. The stall is a proxy on loopback that swallows every byte
from the first statement on (its kernel still acknowledges: TCP keepalives see nothing)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import installed_script
from tests.proxy import Proxy, proxy


@pytest.fixture
def stalling(seeded_dsn: str) -> Iterator[Proxy]:
    with proxy(seeded_dsn) as p:
        p.stall_on_query = True
        yield p


def test_a_read_of_a_stalled_server_ends_in_one_line(stalling: Proxy) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [installed_script(), "list", "--read-timeout", "1s", "--dsn", stalling.dsn()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert done.returncode == 1 and "the server stopped answering" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and took < 15, (took, done.stderr)


def test_the_fleet_prints_what_answered_and_marks_the_stalled_target(seeded_dsn: str, stalling: Proxy) -> None:
    done = subprocess.run(
        [installed_script(), "fleet", "--dsn", seeded_dsn, "--dsn", stalling.dsn(), "--json", "--read-timeout", "1s"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = json.loads(done.stdout)
    assert len(rows) == 2 and rows[0]["reachable"] and rows[0]["backups"] > 0, rows
    assert rows[1]["error"].startswith("stalled: no answer within 1s"), rows[1]
    assert done.returncode == 2


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("key", ["q", "C-c"])
def test_the_tui_leaves_at_once_while_a_worker_waits_on_a_stalled_server(
    seeded_dsn: str, tmp_path: Path, key: str
) -> None:
    with proxy(seeded_dsn) as p:
        session = f"bt-{uuid.uuid4().hex[:8]}"
        status = tmp_path / "exit-status"
        app = f"{shlex.quote(installed_script())} --dsn {shlex.quote(p.dsn())}"
        command = f"env -u COLUMNS -u LINES TERM=xterm-256color {app}; echo $? > {shlex.quote(str(status))}"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
        try:
            deadline = time.monotonic() + 30
            while "backups" not in _screen(session) or "measuring" in _screen(session):  # every load done
                assert time.monotonic() < deadline, _screen(session)
                time.sleep(0.05)
            p.stalled.set()  # from now on the server says nothing
            subprocess.run(["tmux", "send-keys", "-t", session, "r"], check=True)  # a reload waits on it
            assert p.holding.wait(10), "nothing waits on the server"  # the reload, or a load still in flight
            pressed = time.monotonic()
            subprocess.run(["tmux", "send-keys", "-t", session, key], check=True)
            while not status.exists():
                assert time.monotonic() - pressed < 5, f"still running 5 s after {key}:\n{_screen(session)}"
                time.sleep(0.02)
            took = time.monotonic() - pressed
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert took < 2.5, took
    assert status.read_text().strip() == "0"


def _screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
