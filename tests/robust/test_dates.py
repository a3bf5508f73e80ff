"""Rows that cannot be dates never break a read (#23). In 0.2 one metadata row dated 'infinity',
'-infinity', BC or after 9999 broke `list`, `prune`, `CALL backup.apply_prune()` (the nightly job
stopped), the TUI, both public wrappers, and even `drop` of that row. New rows like it are
refused; rows already there are listed, reviewed (never decided by), and can be dropped."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar

BAD_DATES = ["infinity", "-infinity", "0044-03-15 00:00:00+00 BC", "10000-01-01 00:00:00+00"]


def _plant(conn: psycopg.Connection, date: str) -> str:
    """A backup whose metadata row got that date the only way left: the owner's own UPDATE on a row
    from before the constraint (NOT VALID keeps old rows), here with the constraint set aside."""
    make_table(conn, "t", rows=3)
    for days in (30, 20):
        name = scalar(conn, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'daily'::text, 'public'::text)")
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s::text",
            (days, name),
        )
    odd = scalar(conn, "SELECT backup.create_table_backup('t'::text, 'odd'::text, 'daily'::text, 'public'::text)")
    conn.execute("ALTER TABLE backup.backup_metadata DROP CONSTRAINT backup_metadata_dates_check")
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = %s::timestamptz WHERE backup_table_name = %s::text",
        (date, odd),
    )
    return odd


@pytest.mark.parametrize("date", BAD_DATES)
def test_every_read_survives_a_row_that_is_no_date(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], date: str
) -> None:
    odd = _plant(installed, date)
    code, out, err = run(capsys, "list", "--json", "--dsn", dsn)
    assert code == 0, err
    row = next(r for r in json.loads(out) if r["backup_table_name"] == odd)
    assert row["backup_date"] is None and row["status"] == "review" and "is not a date" in row["policy_reason"]
    code, out, err = run(capsys, "prune", "--json", "--dsn", dsn)
    assert code == 0, err
    decisions = {r["backup_table_name"]: r["decision"] for r in json.loads(out)}
    assert decisions[odd] == "review" and sorted(decisions.values()).count("delete") == 1  # the newest keeps its floor
    assert scalar(installed, "SELECT count(*) FROM public.backup_inventory_view") == 3
    assert scalar(installed, "SELECT count(*) FROM public.get_backup_tables()") == 3
    installed.execute("CALL backup.apply_prune()")  # the nightly job goes on: the expired one goes
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 2
    code, out, err = run(capsys, "drop", odd, "--yes", "--dsn", dsn)
    assert code == 0 and "dropped 1" in out, err


async def test_the_tui_lists_such_a_row_as_an_invalid_date(installed: psycopg.Connection, dsn: str, make_app) -> None:
    from tests.app.helpers import main_screen, screen_text, settle

    odd = _plant(installed, "infinity")
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        names = {b.backup_table_name: b for b in main_screen(pilot).listing.all}
        assert names[odd].backup_date is None and str(names[odd].status) == "review"
        assert "invalid" in screen_text(pilot)


def test_new_rows_that_are_no_date_are_refused(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_table(installed, "t", rows=3)
    for date in BAD_DATES:
        with pytest.raises(psycopg.errors.CheckViolation):
            installed.execute(
                "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date) "
                "VALUES ('t', 'x', %s::timestamptz)",
                (date,),
            )
    name = scalar(installed, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    assert run(capsys, "archive", name, "--to", str(tmp_path), "--yes", "--dsn", dsn)[0] == 0
    assert run(capsys, "drop", name, "--forget-archive", "--yes", "--dsn", dsn)[0] == 0
    manifest = json.loads((tmp_path / name / "manifest.json").read_text())
    manifest["backup_date"] = "infinity"
    (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "adopt", "--from", str(tmp_path / name), "--dsn", dsn)
    assert code == 1 and "backup_date (infinity) is not a date" in err and err.count("\n") == 1, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
