"""Human output writes control characters visibly; JSON and CSV stay exact (#13.5)."""

from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.hostile import ESCAPE_TABLE, MARKUP_TABLE, REASON, seed_hostile

RAW = ("\x1b", "\x07", "\u202e")


@pytest.fixture
def hostile(conn: psycopg.Connection, dsn: str) -> dict[str, str]:
    return seed_hostile(conn)


@pytest.mark.parametrize("argv", [("list",), ("prune",), ("check",), ("check", "--fast")])
def test_human_output_escapes_control_characters(
    hostile: dict[str, str], dsn: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *argv, "--dsn", dsn)
    assert code in (0, 1)
    assert not [c for c in RAW if c in out + err], (out + err)[:400]
    if argv == ("list",):
        assert "esc\\x1b[2Jhome" in out and MARKUP_TABLE in out and "\\x1b]0;pwned\\x07" in out


def test_errors_naming_a_hostile_table_escape_it_too(hostile: dict[str, str], dsn: str, capsys) -> None:
    code, _, err = run(capsys, "create", "no\x1b[2Jsuch", "--reason", "r", "--dsn", dsn)
    assert code == 1 and "\x1b" not in err and "no\\x1b[2Jsuch" in err


def test_json_and_csv_stay_exact(hostile: dict[str, str], dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(run(capsys, "list", "--json", "--dsn", dsn)[1])
    assert ESCAPE_TABLE in {r["original_table_name"] for r in rows}
    assert REASON in {r["backup_reason"] for r in rows}
    table = list(csv.DictReader(io.StringIO(run(capsys, "list", "--csv", "--dsn", dsn)[1])))
    assert ESCAPE_TABLE in {r["original_table_name"] for r in table}
    plan = json.loads(run(capsys, "prune", "--json", "--dsn", dsn)[1])
    assert hostile["escape"] in {r["backup_table_name"] for r in plan}
