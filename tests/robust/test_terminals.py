"""Terminals and input (#23): a closed stdin, a closed stdout pipe and an ASCII locale each give a
clean exit, never a traceback. (0.2: `grant`, `archive`, `drop`, `schedule remove` died with
AttributeError on a closed stdin; `prune | head -1` with BrokenPipeError; `list` under LC_ALL=C on
its own em dash.) Run as a user runs it: the installed command, real file descriptors."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest

from tests.conftest import installed_script, make_table, scalar


@pytest.fixture
def backups(installed: psycopg.Connection, dsn: str) -> str:
    make_table(installed, "t", rows=3)
    for reason in ("first", "second — with a dash", "third"):
        installed.execute(
            "SELECT backup.create_table_backup('t'::text, %s::text, 'daily'::text, 'public'::text)", (reason,)
        )
    installed.execute("CREATE ROLE bt_nobody_terminal")
    yield dsn
    installed.execute("DROP ROLE bt_nobody_terminal")


@pytest.mark.parametrize(
    "argv",
    [
        ["grant", "bt_nobody_terminal", "--operator"],
        ["drop", "t_backup_x"],
        ["schedule", "remove", "1"],
        ["prune", "--apply"],
    ],
)
def test_a_closed_stdin_is_one_line_and_changes_nothing(
    backups: str, installed: psycopg.Connection, argv: list[str]
) -> None:
    before = scalar(installed, "SELECT count(*) FROM backup.backup_audit")
    done = subprocess.run(
        ["bash", "-c", '"$0" "$@" <&-', installed_script(), *argv, "--dsn", backups],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit") == before
    assert not scalar(installed, "SELECT has_schema_privilege('bt_nobody_terminal', 'backup', 'USAGE')")


@pytest.mark.parametrize("argv", [["list", "--csv"], ["list"], ["prune"], ["check"], ["schedule", "list"]])
def test_a_closed_stdout_pipe_is_a_quiet_exit(backups: str, argv: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: `| head -0`
    try:
        done = subprocess.run(
            [installed_script(), *argv, "--dsn", backups], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write)
    assert done.stderr == "" and done.returncode == 1, done.stderr


@pytest.mark.parametrize("encoding", [{"LC_ALL": "C", "PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "ascii"}])
def test_an_ascii_terminal_gets_escapes_not_a_crash(backups: str, encoding: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING")}
    env.update(encoding)
    done = subprocess.run([installed_script(), "list", "--dsn", backups], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert b"second \\u2014 with a dash" in done.stdout
