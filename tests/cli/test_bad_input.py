"""Bad input and interrupted runs (#13.9): one clear line, the right exit status, nothing changed."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import installed_script, make_table, scalar


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_a_batch_size_below_one_is_refused_in_one_line(
    installed: psycopg.Connection, dsn: str, size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "prune", "--apply", "--yes", "--batch-size", size, "--dsn", dsn)
    _, err = capsys.readouterr()
    assert exit_.value.code == 2 and err.count("\n") == 1 and "--batch-size" in err, err


def test_usage_errors_are_one_line_and_exit_2() -> None:
    done = subprocess.run([installed_script(), "drop"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "backup-tui" in done.stderr
    done = subprocess.run([installed_script(), "no-such-command"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_an_argument_that_is_not_utf8_is_one_line(installed: psycopg.Connection, dsn: str) -> None:
    done = subprocess.run(
        [installed_script().encode(), b"create", b"bad\xff", b"--reason", b"r", b"--dsn", dsn.encode()],
        capture_output=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1 and "not valid UTF-8" in err and "bad\\xff" in err, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0


def test_check_refuses_a_role_that_does_not_exist(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "check", "--role", "no_such_role", "--dsn", dsn)
    assert code == 2 and err.count("\n") == 1 and "no role named no_such_role" in err


def test_prune_apply_under_a_what_if_date_is_refused(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t")
    for _ in range(2):
        scalar(installed, "SELECT backup.create_table_backup('t', 'minutes old', 'daily')")
    code, out, err = run(capsys, "prune", "--apply", "--yes", "--as-of", "2030-01-01", "--dsn", dsn)
    assert code == 1 and "real current time" in err and "delete 1" in out  # the preview says what-if would delete
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 2


def test_a_connection_lost_in_the_middle_of_prune_apply_exits_1_with_one_summary(
    installed: psycopg.Connection,
    dsn: str,
    admin_dsn: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.db import plan

    make_table(installed, "t")
    for _ in range(4):
        name = scalar(installed, "SELECT backup.create_table_backup('t', 'old', 'daily')")
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s",
            (name,),
        )
    scalar(installed, "SELECT backup.create_table_backup('t', 'newest', 'daily')")
    real = plan.send_prune_batch
    calls = []

    def lose_the_connection_after_one_batch(conn: psycopg.Connection, names):
        calls.append(names)
        if len(calls) == 2:
            with psycopg.connect(admin_dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return real(conn, names)

    monkeypatch.setattr(plan, "send_prune_batch", lose_the_connection_after_one_batch)
    code, out, err = run(capsys, "prune", "--apply", "--yes", "--batch-size", "1", "--dsn", dsn)
    assert code == 1
    summary = [line for line in out.splitlines() if line.startswith("dropped")]
    assert summary == [summary[0]] and summary[0].startswith("dropped 1, freed")
    assert "failed 1, not attempted 2" in summary[0] and "stopped: connection lost" in summary[0]
    assert "press r" not in out + err
    assert err.count("connection lost") <= 2  # the backup in flight, and nothing per backup not attempted
