"""The CLI as careful as the TUI (#24.5): on a terminal, a destructive command shows the dialog's
words (the backups, what would be lost) and takes the name (one backup) or the count (several),
never "yes"; off a terminal it needs --yes; drops and forgets are counted apart. (0.2's `drop` and
`archive` took "yes" and gave none of the dialog's warnings; one forgotten archive was summarised as
"forgot 1, freed 0 Bytes, failed 0" and "dropped 1, freed 0 Bytes, failed 0".)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import installed_script, make_table, scalar


def on_a_terminal(argv: list[str], answer: str) -> subprocess.CompletedProcess:
    """The installed command with a terminal as its stdin, answering `answer` to its question."""
    main, terminal = os.openpty()
    try:
        os.write(main, answer.encode() + b"\n")
        return subprocess.run([installed_script(), *argv], stdin=terminal, capture_output=True, text=True, timeout=60)
    finally:
        os.close(main)
        os.close(terminal)


@pytest.fixture
def two(installed: psycopg.Connection) -> list[str]:
    make_table(installed, "t", rows=5)
    return [
        scalar(installed, "SELECT backup.create_table_backup('t'::text, %s::text, 'daily'::text, 'public'::text)", (r,))
        for r in ("older", "newer")
    ]


def test_dropping_one_backup_takes_its_name_not_yes(two: list[str], installed: psycopg.Connection, dsn: str) -> None:
    newest = two[-1]
    done = on_a_terminal(["drop", newest, "--dsn", dsn], "yes")
    assert done.returncode == 1 and "nothing dropped" in done.stdout
    # The newest of its table, read from the database as the TUI reads it from its list (#26).
    assert "Careful: the newest backup of its table." in done.stdout
    assert "Type the backup's name to confirm (it is the newest backup of its table):" in done.stdout
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 2
    done = on_a_terminal(["drop", newest, "--dsn", dsn], newest)
    assert done.returncode == 0 and "dropped 1" in done.stdout, done.stdout + done.stderr
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1


def test_dropping_several_takes_their_count(two: list[str], installed: psycopg.Connection, dsn: str) -> None:
    done = on_a_terminal(["drop", *two, "--dsn", dsn], "yes")
    assert done.returncode == 1 and "Type 2 to confirm (2 of them at risk, see above):" in done.stdout
    assert "every backup of t that has a table: none would be left" in done.stdout
    done = on_a_terminal(["drop", *two, "--dsn", dsn], "2")
    assert done.returncode == 0 and "dropped 2" in done.stdout
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0


def test_archiving_asks_the_same_way(two: list[str], installed: psycopg.Connection, dsn: str, tmp_path: Path) -> None:
    done = on_a_terminal(["archive", two[0], "--to", str(tmp_path), "--dsn", dsn], "yes")
    assert done.returncode == 1 and "nothing archived" in done.stdout and "to " + str(tmp_path) in done.stdout
    done = on_a_terminal(["archive", two[0], "--to", str(tmp_path), "--dsn", dsn], two[0])
    assert done.returncode == 0 and "archived " + two[0] in done.stdout, done.stdout + done.stderr


def test_drops_and_forgets_are_counted_apart(
    two: list[str], installed: psycopg.Connection, dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "archive", two[0], "--to", str(tmp_path), "--yes", "--dsn", dsn)[0] == 0
    code, out, err = run(capsys, "drop", *two, "--forget-archive", "--yes", "--dsn", dsn)
    assert code == 0, err
    assert f"forgot {two[0]}" in out and f"dropped {two[1]}" in out
    assert out.strip().splitlines()[-1].startswith("dropped 1, freed") and out.strip().endswith("; forgot 1")


def test_off_a_terminal_without_yes_nothing_happens(two: list[str], installed: psycopg.Connection, dsn: str) -> None:
    installed.execute(  # the older one expired: prune --apply has something to do
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s::text",
        (two[0],),
    )
    for argv in (["drop", two[0]], ["archive", two[0], "--to", "/tmp/x"], ["prune", "--apply"]):
        done = subprocess.run(
            [installed_script(), *argv, "--dsn", dsn], stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        assert done.returncode == 1 and "--yes" in done.stderr and done.stderr.count("\n") == 1, (argv, done.stderr)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 2
