"""`backup-tui schedule …` and `run-due`: what a DBA types, and what a bad line gets."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import installed_script, make_table, scalar
from tui.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_pause_run_and_remove_from_the_command_line(capsys, installed: psycopg.Connection, dsn: str) -> None:
    make_table(installed, "orders")
    code, out, _ = run(capsys, "schedule", "add", "orders", "--kind", "daily", "--cron", "0 2 * * *", "--dsn", dsn)
    assert code == 0 and "every day at 02:00 UTC" in out and "next runs:" in out
    schedule_id = int(re.search(r"schedule (\d+)", out).group(1))  # type: ignore[union-attr]
    code, out, _ = run(capsys, "schedule", "list", "--dsn", dsn)
    assert code == 0 and "orders" in out and "never ran" in out and "pg_cron" in out
    listed = json.loads(run(capsys, "schedule", "list", "--json", "--dsn", dsn)[1])
    assert listed["schedules"][0]["id"] == schedule_id and listed["schedules"][0]["words"] == "every day at 02:00 UTC"
    assert run(capsys, "schedule", "pause", "orders", "--dsn", dsn)[0] == 0
    assert "[paused]" in run(capsys, "schedule", "list", "--dsn", dsn)[1]
    assert run(capsys, "schedule", "resume", str(schedule_id), "--dsn", dsn)[0] == 0
    code, out, _ = run(capsys, "schedule", "run", "orders", "--dsn", dsn)
    assert code == 0 and out.strip().startswith("orders_backup_")
    made = scalar(installed, f"SELECT count(*) FROM backup.backup_metadata WHERE schedule_id = {schedule_id}")
    assert made == 1
    code, _, err = run(capsys, "schedule", "remove", "orders", "--dsn", dsn)  # not a terminal, no --yes
    assert code == 1 and "pass --yes" in err
    assert run(capsys, "schedule", "remove", "orders", "--yes", "--dsn", dsn)[0] == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1  # its backup stays


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["orders", "--kind", "daily", "--cron", "0 25 * * *"], 'the hour field allows 0-23, not "25"'),
        (["orders", "--kind", "daily", "--cron", "every night"], "five fields are needed"),
        (["nope", "--kind", "daily", "--cron", "0 2 * * *"], "table public.nope does not exist"),
        (["orders", "--kind", "hourly", "--cron", "0 2 * * *"], 'unknown backup kind "hourly"'),
    ],
)
def test_bad_schedules_are_one_line_and_nothing_changes(
    capsys, installed: psycopg.Connection, dsn: str, argv: list[str], says: str
) -> None:
    make_table(installed, "orders")
    code, out, err = run(capsys, "schedule", "add", *argv, "--dsn", dsn)
    assert code == 1 and says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0


def test_unknown_and_ambiguous_schedules_are_named(capsys, installed: psycopg.Connection, dsn: str) -> None:
    make_table(installed, "orders")
    for kind in ("daily", "weekly"):
        run(capsys, "schedule", "add", "orders", "--kind", kind, "--cron", "0 2 * * *", "--dsn", dsn)
    code, _, err = run(capsys, "schedule", "run", "orders", "--dsn", dsn)
    assert code == 1 and "has 2 schedules" in err
    code, _, err = run(capsys, "schedule", "pause", "99", "--dsn", dsn)
    assert code == 1 and "no schedule '99'" in err


def test_run_due_dry_run_then_run_and_a_failure_exits_1(capsys, installed: psycopg.Connection, dsn: str) -> None:
    make_table(installed, "orders")
    make_table(installed, "gone")
    for table in ("orders", "gone"):
        run(capsys, "schedule", "add", table, "--kind", "daily", "--cron", "0 2 * * *", "--dsn", dsn)
    # Every time the test judges by is the server's own clock: `check` below runs at the real now
    # (a fixed --at once turned this test red the day the schedule it ran became overdue).
    installed.execute("UPDATE backup.backup_schedule SET created_at = now() - interval '30 days'")
    installed.execute("DROP TABLE public.gone")
    at = scalar(installed, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    code, out, _ = run(capsys, "run-due", "--dry-run", "--at", at, "--dsn", dsn)
    assert code == 0 and out.count("due: schedule") == 2
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0  # a dry run makes nothing
    code, out, err = run(capsys, "run-due", "--at", at, "--dsn", dsn)
    assert code == 1 and out.strip().startswith("orders_backup_") and "public.gone does not exist" in err
    code, out, _ = run(capsys, "run-due", "--at", at, "--dsn", dsn)  # nothing due any more
    assert code == 0 and out == ""
    code, out, _ = run(capsys, "check", "--fast", "--dsn", dsn)  # the failed schedule is a finding
    assert code == 1 and "schedule (1)" in out and "public.gone does not exist" in out and "schedule run" in out
    code, _, err = run(capsys, "run-due", "--at", "tomorrow", "--dsn", dsn)
    assert code == 1 and "not a time" in err


def test_schedule_cron_without_pg_cron_says_what_to_do_instead(capsys, installed: psycopg.Connection, dsn: str) -> None:
    if scalar(installed, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'"):
        pytest.skip("this server has pg_cron here (tests/cron covers it)")
    code, _, err = run(capsys, "schedule", "cron", "--install", "--dsn", dsn)
    assert code == 1 and "run-due" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "schedule", "cron", "--dsn", dsn)
    assert code == 1 and "--install or --remove" in err


def _fenced(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(), re.S)


def _home_with_the_script(tmp_path: Path) -> Path:
    """A home where the script is where the README says a pipx or `pip install --user` puts it."""
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "backup-tui").symlink_to(installed_script())
    return home


def test_the_readme_crontab_line_is_valid_cron_and_runs_run_due(
    installed: psycopg.Connection, dsn: str, tmp_path: Path
) -> None:
    """#26: the line runs as cron runs it — /bin/sh, PATH=/usr/bin:/bin, a fresh account — once the
    README's `mkdir -p` made the log's folder."""
    (line,) = [text.strip() for text in _fenced("crontab") if "run-due" in text]
    fields = line.split(None, 5)
    when, command = " ".join(fields[:5]), fields[5]
    assert scalar(installed, f"SELECT backup.cron_words('{when}')") == "every minute"
    assert command.startswith("$HOME/.local/bin/backup-tui run-due --dsn 'service=prod' ")
    home = _home_with_the_script(tmp_path)
    setup = re.search(r"`(mkdir -p [^`]+)`", (Path(__file__).resolve().parents[2] / "README.md").read_text())[1]
    cron_env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LANG": "C.UTF-8"}
    subprocess.run(["/bin/sh", "-c", setup.replace("~", "$HOME")], env=cron_env, check=True)
    ran = subprocess.run(
        ["/bin/sh", "-c", command.replace("'service=prod'", shlex.quote(dsn))], env=cron_env, timeout=120, check=False
    )
    assert ran.returncode == 0
    log = (home / ".local" / "state" / "backup-tui" / "run-due.log").read_text()
    assert "nothing is due" in log or log == ""


def test_the_readme_systemd_units_parse_and_verify(tmp_path: Path) -> None:
    units = {}
    for text in _fenced("ini"):
        name = text.splitlines()[0].lstrip("# ").strip()
        if name.startswith("backup-tui-run-due."):
            units[name] = text
            parser = configparser.ConfigParser(strict=True, interpolation=None)
            parser.read_string(text)
            assert parser.has_section("Unit")
    service = configparser.ConfigParser(interpolation=None)
    service.read_string(units["backup-tui-run-due.service"])
    assert service["Service"]["Type"] == "oneshot" and "backup-tui run-due" in service["Service"]["ExecStart"]
    timer = configparser.ConfigParser(interpolation=None)
    timer.read_string(units["backup-tui-run-due.timer"])
    assert timer["Timer"]["OnCalendar"] == "*-*-* *:*:00" and timer["Install"]["WantedBy"] == "timers.target"
    analyze = shutil.which("systemd-analyze")
    if analyze:  # where systemd is installed, its own checker has the last word, on the units as written
        home = _home_with_the_script(tmp_path)
        (tmp_path / "units").mkdir()
        for name, text in units.items():
            (tmp_path / "units" / name).write_text(text)
        done = subprocess.run(
            [analyze, "verify", *map(str, (tmp_path / "units").iterdir())],
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": str(home)},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        units_checked = "systemd-analyze verify"
    else:
        units_checked = "parsed (systemd-analyze is not installed here)"
    assert units_checked
