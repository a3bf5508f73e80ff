from __future__ import annotations

import csv
import io
import json
import subprocess

import psycopg
import pytest

from tests.conftest import installed_script, make_table, scalar
from tests.legacy import build_legacy
from tui.cli import main
from tui.model import INVENTORY_COLUMNS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_install_then_create_list_drop(conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "install", "--dsn", dsn)[0] == 0
    assert "up to date" in run(capsys, "install", "--dsn", dsn)[1]
    make_table(conn, "Big Table", rows=5)
    code, out, _ = run(capsys, "create", "Big Table", "--reason", "before import", "--kind", "daily", "--dsn", dsn)
    assert code == 0
    name = out.strip()
    assert name.startswith("Big Table_backup_")
    code, out, _ = run(capsys, "--dsn", dsn, "list")
    assert code == 0 and name in out and "before import" in out
    code, out, _ = run(capsys, "drop", name, "--yes", "--dsn", dsn)
    assert code == 0 and "dropped 1" in out
    assert scalar(conn, "SELECT count(*) FROM backup.backup_metadata") == 0


def test_list_json_keys_are_the_view_columns_and_dates_iso(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t", rows=3)
    run(capsys, "create", "t", "--reason", "r", "--dsn", dsn)
    code, out, _ = run(capsys, "list", "--json", "--dsn", dsn)
    rows = json.loads(out)
    view_columns = [r[0] for r in installed.execute("SELECT * FROM backup.backup_inventory LIMIT 0").description]
    assert list(rows[0]) == view_columns == list(INVENTORY_COLUMNS)
    assert rows[0]["row_count"] == 3 and rows[0]["status"] == "keep"
    assert rows[0]["backup_date"].startswith(str(scalar(installed, "SELECT current_date")))
    assert "T" in rows[0]["backup_date"]


def test_list_csv_has_header_and_quotes_odd_names(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, 'a,b "c"', rows=2)
    run(capsys, "create", 'a,b "c"', "--reason", "line1, with comma", "--dsn", dsn)
    code, out, _ = run(capsys, "list", "--csv", "--dsn", dsn)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["original_table_name"] == 'a,b "c"'
    assert rows[0]["backup_reason"] == "line1, with comma"


def test_list_on_a_legacy_install_works_without_upgrade(
    conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = build_legacy(conn)
    code, out, _ = run(capsys, "list", "--json", "--dsn", dsn)
    assert code == 0
    status = {r["backup_table_name"]: r["status"] for r in json.loads(out)}
    assert status[names["missing"]] == "missing"


def test_create_on_legacy_install_asks_for_upgrade(
    conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build_legacy(conn)
    code, _, err = run(capsys, "create", "users", "--reason", "r", "--dsn", dsn)
    assert code == 1 and "backup-tui install" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("create", "nope", "--reason", "r"), "table public.nope does not exist"),
        (("create", "t", "--reason", "   "), "a reason is required"),
        (("create", "t", "--reason", "r", "--kind", "hourly"), 'unknown backup kind "hourly"'),
        (("drop", "t", "--yes"), "no backup named t"),
        (("drop", "backup_audit", "--yes"), "part of the backup schema itself"),
    ],
)
def test_cli_errors_are_one_line_and_exit_1(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    make_table(installed, "t")
    code, _, err = run(capsys, *argv, "--dsn", dsn)
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert scalar(installed, "SELECT count(*) FROM public.t") == 10


def test_drop_without_yes_off_a_terminal_refuses(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_table(installed, "t")
    name = run(capsys, "create", "t", "--reason", "r", "--dsn", dsn)[1].strip()
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    code, _, err = run(capsys, "drop", name, "--dsn", dsn)
    assert code == 1 and "--yes" in err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 1


def test_drop_continues_past_failures_and_reports_them(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t")
    first = run(capsys, "create", "t", "--reason", "r", "--dsn", dsn)[1].strip()
    second = run(capsys, "create", "t", "--reason", "r", "--dsn", dsn)[1].strip()
    code, out, err = run(capsys, "drop", first, "nope", second, "--yes", "--dsn", dsn)
    assert code == 1
    assert "failed nope: no backup named nope" in err
    assert "dropped 2" in out and "failed 1" in out


def test_installed_script_reports_bad_dsn_without_traceback() -> None:
    proc = subprocess.run(
        [installed_script(), "list", "--dsn", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("backup-tui: cannot connect")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_lock_timeout_is_reported_in_words(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t")
    name = run(capsys, "create", "t", "--reason", "r", "--dsn", dsn)[1].strip()
    holder = psycopg.connect(dsn)
    try:
        holder.execute(f'SELECT * FROM backup."{name}"')
        code, _, err = run(capsys, "drop", name, "--yes", "--lock-timeout", "200ms", "--dsn", dsn)
    finally:
        holder.close()
    assert code == 1
    assert "lock timeout" in err and "retry" in err


def _aged_backups(conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Three daily backups of t, 30, 20 and 10 days old: all past 7 days, the newest is kept."""
    make_table(conn, "t")
    names = [run(capsys, "create", "t", "--reason", "r", "--kind", "daily", "--dsn", dsn)[1].strip() for _ in range(3)]
    for name, days in zip(names, (30, 20, 10), strict=True):
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    return names


def test_prune_prints_the_plan_grouped_with_totals_and_changes_nothing(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, older_but_newer, newest = _aged_backups(installed, dsn, capsys)
    code, out, _ = run(capsys, "prune", "--dsn", dsn)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "t"
    assert any(line.split()[:2] == ["delete", old] and "daily, 30 days old, kept 7 days" in line for line in lines)
    assert any(line.split()[:2] == ["keep", newest] and "newest backup of public.t" in line for line in lines)
    assert lines[-1].startswith("delete 2 (")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 3


def test_prune_json_has_the_sql_column_names(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _aged_backups(installed, dsn, capsys)
    code, out, _ = run(capsys, "prune", "--json", "--dsn", dsn)
    rows = json.loads(out)
    columns = [c.name for c in installed.execute("SELECT * FROM backup.plan_prune() LIMIT 0").description]
    assert list(rows[0]) == columns
    assert sorted(r["decision"] for r in rows) == ["delete", "delete", "keep"]


def test_prune_apply_drops_exactly_the_planned_deletes(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, older_but_newer, newest = _aged_backups(installed, dsn, capsys)
    code, out, _ = run(capsys, "prune", "--apply", "--yes", "--batch-size", "1", "--dsn", dsn)
    assert code == 0
    assert "dropped 2" in out and "failed 0" in out
    remaining = [r[0] for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata")]
    assert remaining == [newest]
