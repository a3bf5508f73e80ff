"""The CLI as a terminal citizen: `list` fits the width and takes sorts, filters and a limit in
every format; prune asks for the count; a database without the schema is said so."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import installed_script
from tests.fixtures import TOTAL
from tui.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _names(capsys, dsn: str, *options: str) -> dict[str, list[str]]:
    """The names `list` prints with these options, in each of its three formats."""
    _, text, _ = run(capsys, "list", *options, "--dsn", dsn)
    _, as_json, _ = run(capsys, "list", "--json", *options, "--dsn", dsn)
    _, as_csv, _ = run(capsys, "list", "--csv", *options, "--dsn", dsn)
    lines = text.splitlines()
    name_width = re.match(r"backup\s+", lines[0]).end()  # the name column, names with spaces included
    human = [line[:name_width].rstrip() for line in lines[1:] if line and not re.match(r"^\d+ backups?,", line)]
    return {
        "human": human,
        "json": [row["backup_table_name"] for row in json.loads(as_json)],
        "csv": [row["backup_table_name"] for row in csv.DictReader(io.StringIO(as_csv))],
    }


def test_list_sorts_filters_and_limits_the_same_in_every_format(capsys, seeded_dsn: str) -> None:
    every = _names(capsys, seeded_dsn)
    assert every["human"] == every["json"] == every["csv"] and len(every["json"]) == TOTAL
    rows = json.loads(run(capsys, "list", "--json", "--dsn", seeded_dsn)[1])
    sized = sorted((r for r in rows if r["size_bytes"] is not None), key=lambda r: -r["size_bytes"])
    by_size = _names(capsys, seeded_dsn, "--sort", "size", "--limit", "3")
    assert by_size["json"] == by_size["csv"] == by_size["human"]
    assert [r["size_bytes"] for r in rows if r["backup_table_name"] in by_size["json"]] != []
    assert sorted(r["size_bytes"] for r in sized[:3]) == sorted(
        r["size_bytes"] for r in rows if r["backup_table_name"] in by_size["json"]
    )
    oldest = _names(capsys, seeded_dsn, "--sort", "age", "--limit", "1")["json"]
    dated = sorted((r for r in rows if r["backup_date"]), key=lambda r: r["backup_date"])
    assert oldest == [dated[0]["backup_table_name"]]
    newest_last = _names(capsys, seeded_dsn, "--sort", "age", "--reverse")["json"]
    assert newest_last[0] == dated[-1]["backup_table_name"]
    by_name = _names(capsys, seeded_dsn, "--sort", "name")["json"]
    assert by_name == sorted(by_name) or by_name == sorted(by_name, key=lambda n: n.encode())
    expired = _names(capsys, seeded_dsn, "--status", "expired")
    assert expired["json"] == expired["csv"] == expired["human"]
    assert set(expired["json"]) == {r["backup_table_name"] for r in rows if r["status"] == "expired"}
    daily_orders = _names(capsys, seeded_dsn, "--kind", "daily", "--source", "orders")["json"]
    assert set(daily_orders) == {
        r["backup_table_name"] for r in rows if r["backup_kind"] == "daily" and r["original_table_name"] == "orders"
    }
    assert run(capsys, "list", "--kind", "nope", "--dsn", seeded_dsn)[1].strip() == "no backups match"


def test_bad_list_options_get_one_line(capsys, seeded_dsn: str) -> None:
    for options in (["--status", "gone"], ["--sort", "colour"], ["--limit", "0"]):
        with pytest.raises(SystemExit) as exited:
            main(["list", *options, "--dsn", seeded_dsn])
        err = capsys.readouterr().err
        assert exited.value.code == 2 and len(err.strip().splitlines()) == 1, options


def test_list_fits_the_terminal_and_cuts_the_reason_first(
    capsys, seeded_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = run(capsys, "list", "--dsn", seeded_dsn)[1]  # piped: nothing cut
    assert max(len(line) for line in wide.splitlines()) > 100
    for columns in (120, 80, 60):
        monkeypatch.setenv("COLUMNS", str(columns))
        out = run(capsys, "list", "--dsn", seeded_dsn)[1]
        lines = out.splitlines()
        assert all(len(line) <= columns for line in lines), columns
        stamps = [m.group() for m in re.finditer(r"\d{4}_\d{2}_\d{2}_\d{6}", wide)]
        assert stamps and all(stamp in out for stamp in stamps), columns  # every name keeps its date
        header = lines[0].split()
        assert header[0] == "backup" and {"age", "size", "status"} <= set(header)
        if columns == 120:  # the reason stays, cut (it gives way first)
            assert "reason" in header and "…" in out


def test_list_and_check_on_a_database_without_the_schema(capsys, dsn: str) -> None:
    code, out, err = run(capsys, "list", "--dsn", dsn)
    assert code == 1 and "no backup schema" in err and "backup-tui install" in err and not out
    code, out, _ = run(capsys, "check", "--dsn", dsn)
    assert code == 1 and "not installed" in out and "backup-tui install" in out
    code, out, _ = run(capsys, "check", "--json", "--dsn", dsn)
    assert code == 1 and json.loads(out)[0]["category"] == "not installed"


def _on_a_terminal(argv: list[str], answer: str) -> tuple[int, str]:
    """Run the installed command with a terminal on stdin (a pty), typing `answer`."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        os.write(leader, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return proc.returncode, out


def test_prune_apply_asks_for_the_count_on_a_terminal_and_refuses_without_one(capsys, live_dsn: str) -> None:
    plan = json.loads(run(capsys, "prune", "--json", "--dsn", live_dsn)[1])
    due = [r["backup_table_name"] for r in plan if r["decision"] == "delete"]
    assert due
    code, _, err = run(capsys, "prune", "--apply", "--dsn", live_dsn)  # no terminal, no --yes
    assert code == 1 and "pass --yes" in err and len(err.strip().splitlines()) == 1
    code, out = _on_a_terminal([installed_script(), "prune", "--apply", "--dsn", live_dsn], "yes")
    assert code == 1 and f"Type {len(due)} to confirm" in out and "nothing dropped" in out
    after = json.loads(run(capsys, "prune", "--json", "--dsn", live_dsn)[1])
    assert [r["backup_table_name"] for r in after if r["decision"] == "delete"] == due  # nothing changed
    code, out = _on_a_terminal([installed_script(), "prune", "--apply", "--dsn", live_dsn], str(len(due)))
    assert code == 0 and f"dropped {len(due)}" in out


def test_the_readme_command_table_is_one_table_naming_every_command() -> None:
    from tui.cli import build_parser

    section = README.read_text().split("## Command line", 1)[1].split("\n\n", 2)[1]
    lines = section.splitlines()
    assert lines[0].startswith("| command") and all(line.startswith("|") for line in lines)
    parser = build_parser()
    commands = next(a for a in parser._subparsers._group_actions).choices  # type: ignore[union-attr]
    for command in commands:
        assert any(line.startswith(f"| `backup-tui {command}") for line in lines), command
