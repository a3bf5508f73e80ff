"""#26, the shell around the tool: usage errors are exit 2 before connecting, `--help` says what a
command does and where the config, environment and exit codes are, completion and a man page come
from the parser itself, CSV is safe to open in a spreadsheet, the CLI archives where the TUI
would, a dumb terminal gets one line, and `create` takes schema.table and suggests a close name."""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import installed_script, make_table, scalar
from tui.cli import main
from tui.cli.parser import build_parser
from tui.config import default_archive_target
from tui.db.backups import create_backup


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own exits (usage errors, --help)
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--lock-timeout", "banana", "not a duration"),
        ("--statement-timeout", "5 parsecs", "not a duration"),
        ("--as-of", "next tuesday", "not a date and time"),
    ],
)
def test_a_bad_setting_is_a_usage_error_before_any_connection(capsys, option: str, value: str, words: str) -> None:
    # No server at this address: a usage error must come first, not a connection error.
    code, out, err = run(capsys, "list", option, value, "--dsn", "host=/nonexistent dbname=x")
    assert code == 2 and not out
    assert words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["5s", "200ms", "2min", "1h", "0", "1.5s"])
def test_durations_postgresql_takes_are_taken(value: str) -> None:
    assert build_parser().parse_args(["list", "--lock-timeout", value]).lock_timeout == value


def test_help_says_what_each_command_does_and_where_config_environment_and_exit_codes_are(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for words in ("config.toml", "[archive]", "BACKUP_TUI_ARCHIVE_TO", "XDG_DATA_HOME", "exit codes", "examples"):
        assert words in out, words
    code, out, _ = run(capsys, "drop", "--help")
    assert code == 0 and "Drop backups (asks unless --yes)." in out and "backup-tui --help" in out
    code, out, _ = run(capsys, "schedule", "add", "--help")
    assert code == 0 and "Exit codes, environment and the config file" in out


def test_bash_completion_is_valid_bash_and_knows_the_commands(capsys) -> None:
    code, script, _ = run(capsys, "completion", "bash")
    assert code == 0
    for command in ("prune", "archive", "schedule", "fleet", "--lock-timeout"):
        assert command in script, command
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr
    code, zsh, _ = run(capsys, "completion", "zsh")
    assert code == 0 and "#compdef backup-tui" in zsh


def test_the_man_page_is_roff_with_every_command_and_the_exit_codes(capsys) -> None:
    code, page, _ = run(capsys, "man")
    assert code == 0 and page.startswith(".TH BACKUP\\-TUI")
    for command in ("install", "prune", "archive", "restore", "schedule", "fleet", "completion"):
        assert f"backup\\-tui {command}" in page or f"backup\\-tui\\fR \\fI\\,{command}" in page, command
    assert "exit codes" in page
    if shutil.which("man"):  # man renders it without a warning
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"backup-tui-{os.getpid()}.1"
        path.write_text(page, encoding="utf-8")
        try:
            shown = subprocess.run(
                ["man", "-l", str(path)],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"},
            )
        finally:
            path.unlink()
        assert shown.returncode == 0 and "backup-tui" in shown.stdout


def test_csv_cannot_carry_a_formula_into_a_spreadsheet_and_can_start_with_a_bom(
    installed: psycopg.Connection, dsn: str, capsys
) -> None:
    make_table(installed, "orders", 3)
    create_backup(installed, "orders", '=HYPERLINK("http://evil.example","click")', "manual")
    create_backup(installed, "orders", "+1 rows; @sum; -x", "manual")
    code, out, _ = run(capsys, "list", "--csv", "--dsn", dsn)
    assert code == 0
    reasons = {row["backup_reason"] for row in csv.DictReader(io.StringIO(out))}
    assert reasons == {'\'=HYPERLINK("http://evil.example","click")', "'+1 rows; @sum; -x"}
    assert not out.startswith("\ufeff")
    code, out, _ = run(capsys, "list", "--csv", "--bom", "--dsn", dsn)
    assert code == 0 and out.startswith("\ufeffid,")


def test_the_cli_archives_to_the_configured_target_as_the_tui_does(
    installed: psycopg.Connection, dsn: str, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUP_TUI_ARCHIVE_TO", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "backup-tui").mkdir(parents=True)
    cold = tmp_path / "cold"
    (tmp_path / "config" / "backup-tui" / "config.toml").write_text(f'[archive]\ntarget = "{cold}"\n')
    make_table(installed, "orders", 10)
    name = create_backup(installed, "orders", "to the cold store", "monthly")
    code, out, err = run(capsys, "archive", name, "--yes", "--dsn", dsn)
    assert code == 0, err
    assert str(cold) in out and any(cold.iterdir())
    location = "SELECT archive_location FROM backup.backup_metadata WHERE backup_table_name = %s"
    assert str(scalar(installed, location, (name,))).startswith(str(cold))


def test_the_default_archive_folder_follows_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BACKUP_TUI_ARCHIVE_TO", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_archive_target() == str(tmp_path / "backup-tui" / "archive")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_archive_target() == "~/.local/share/backup-tui/archive"


def test_a_dumb_terminal_gets_one_line_not_a_tui() -> None:
    done = subprocess.run(
        [installed_script()],
        env={**os.environ, "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "backup-tui: this terminal (TERM=dumb) cannot draw the TUI; the commands work here: "
        "backup-tui list, prune, check… (backup-tui --help)"
    ]
    assert "\x1b" not in done.stdout


def test_create_takes_schema_dot_table_and_suggests_a_close_name(
    installed: psycopg.Connection, dsn: str, capsys
) -> None:
    installed.execute("CREATE SCHEMA sales")
    make_table(installed, "order_lines", 4, schema="sales")
    make_table(installed, "orders", 4)
    code, out, err = run(capsys, "create", "sales.order_lines", "--reason", "dotted", "--dsn", dsn)
    assert code == 0, err
    source = (
        "SELECT source_schema || '.' || original_table_name FROM backup.backup_metadata WHERE backup_table_name = %s"
    )
    assert scalar(installed, source, (out.strip(),)) == "sales.order_lines"
    code, out, err = run(capsys, "create", "ordrs", "--reason", "a typo", "--dsn", dsn)
    assert code == 1 and not out
    assert err.strip().endswith("did you mean orders?") and len(err.strip().splitlines()) == 1
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1


def test_the_readme_schedules_the_script_by_its_path_as_cron_and_systemd_need() -> None:
    """Cron's PATH has no venv or pipx bin, and systemd refuses a relative ExecStart: every crontab
    line and unit names the script by its path, and the log's folder is made first."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```")
    crontab = [line for b in blocks if b.startswith("crontab") for line in b.splitlines()[1:] if line.strip()]
    assert crontab
    for line in crontab:
        command = line.split(None, 5)[5]
        assert command.startswith(("/", "$HOME/")), line
    units = [line for b in blocks if b.startswith("ini") for line in b.splitlines() if line.startswith("ExecStart=")]
    assert units and all(line.removeprefix("ExecStart=").startswith(("/", "%h/")) for line in units)
    assert "mkdir -p ~/.local/state/backup-tui" in readme
    assert "/var/lib/prometheus/node-exporter" in readme  # Debian's textfile folder


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_human_output_fits_the_terminal_without_cutting_a_word(
    installed: psycopg.Connection, dsn: str, capsys, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """#26: prune, check, schedule list and fleet wrapped mid-word at 80 columns (fleet's header was
    'find'). Each line now fits, words whole; piped (no COLUMNS), lines stay whole for scripts."""
    make_table(installed, "orders", 5)
    long_reason = "before the quarterly reconciliation of every warehouse ledger against the supplier invoices"
    for _ in range(2):
        create_backup(installed, "orders", long_reason, "daily")
    installed.execute("UPDATE backup.backup_metadata SET backup_date = now() - interval '40 days'")
    installed.execute("CREATE TABLE backup.stray_table_without_a_row AS SELECT 1 AS id")  # a finding for check
    assert run(capsys, "schedule", "add", "orders", "--kind", "daily", "--cron", "0 2 * * *", "--dsn", dsn)[0] == 0
    monkeypatch.setenv("COLUMNS", str(columns))
    outputs = {
        "list": run(capsys, "list", "--dsn", dsn)[1],
        "prune": run(capsys, "prune", "--dsn", dsn)[1],
        "check": run(capsys, "check", "--dsn", dsn)[1],
        "schedule list": run(capsys, "schedule", "list", "--dsn", dsn)[1],
        "fleet": run(capsys, "fleet", "--dsn", dsn, "--dsn", "host=127.0.0.1 port=1 dbname=x connect_timeout=2")[1],
    }
    for command, out in outputs.items():
        assert out.strip(), command
        for line in out.splitlines():
            if line.lstrip().startswith("fix:"):  # a command to copy: left whole, the terminal folds it
                continue
            assert len(line) <= columns, f"{command}: {line!r}"
    words = " ".join(outputs["prune"].split())
    assert "40 days old, kept 7 days" in words  # wrapped at spaces: the phrase reads whole once joined
    header = outputs["fleet"].splitlines()[0].split()
    assert "findings" in header and "reclaimable" in header and "find" not in header
    monkeypatch.setenv("COLUMNS", "160")
    assert "version" in run(capsys, "fleet", "--dsn", dsn)[1].splitlines()[0].split()
    monkeypatch.delenv("COLUMNS")
    piped = run(capsys, "prune", "--dsn", dsn)[1]  # not a terminal: every plan line whole
    plan_lines = [line for line in piped.splitlines() if "days old" in line]
    assert plan_lines and all(line.startswith("  ") and line.endswith("kept 7 days") for line in plan_lines)


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


def test_help_of_every_command_says_what_it_does(capsys) -> None:
    """#26: `--help` and each subcommand's help: a description line, usage, and where the rest is."""
    commands = _commands(build_parser())
    assert len(commands) > 20 and ("schedule", "add") in commands and ("diff",) in commands
    for command in [(), *commands]:
        code, out, err = run(capsys, *command, "--help")
        assert code == 0 and not err, command
        usage, description, *_ = out.split("\n\n")
        assert usage.startswith("usage: backup-tui"), command
        assert description.rstrip().endswith("."), (command, description)
        assert "backup-tui --help" in out or command == (), command


@pytest.mark.parametrize(
    ("path", "argv"),
    [
        ("share/man/man1/backup-tui.1", ["man"]),
        ("share/bash-completion/completions/backup-tui", ["completion", "bash"]),
        ("share/zsh/site-functions/_backup-tui", ["completion", "zsh"]),
    ],
)
def test_the_man_page_and_completions_installed_with_the_package_are_the_parsers(
    capsys, path: str, argv: list[str]
) -> None:
    """#26: installed with the package (hatch shared-data: the environment's share/, where man and
    bash-completion look), and never stale: the files in the repository are what the parser makes now
    (after a change to the command line: `backup-tui man > share/man/man1/backup-tui.1`, and so on)."""
    import sys

    committed = Path(__file__).resolve().parents[2] / path
    code, made, _ = run(capsys, *argv)
    assert code == 0 and committed.read_text(encoding="utf-8") == made, f"regenerate {path}"
    assert (Path(sys.prefix) / path).exists()  # pip put it where the environment's tools look
