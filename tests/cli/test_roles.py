"""Least privilege (#13.8): `grant ROLE --operator|--reviewer` gives exactly what each needs, and every
command and the TUI's main flows run as those roles, never as superuser only. What a role may do
works; what it may not gives one clear line."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar

OPERATOR, REVIEWER = "bt_operator", "bt_reviewer"


def _role(conn: psycopg.Connection, role: str) -> None:
    conn.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
    )


@pytest.fixture
def team(installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """A database the superuser set up: backups of t (some expired), an unregistered table, and an
    operator and a reviewer granted through the CLI. Returns each role's DSN."""
    make_table(installed, "t", rows=40)
    for days in (30, 20):
        name = scalar(installed, "SELECT backup.create_table_backup('t', 'nightly', 'daily')")
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    scalar(installed, "SELECT backup.create_table_backup('t', 'kept', 'critical')")
    installed.execute("CREATE TABLE backup.t_backup_20250101 AS TABLE public.t")
    for role in (OPERATOR, REVIEWER):
        _role(installed, role)
    # A source they may copy: granting the operator shares the backups of t made before (a backup is
    # read by those who may read its source; archive and restore read it with the caller's rights).
    installed.execute(f"GRANT SELECT ON public.t TO {OPERATOR}, {REVIEWER}")
    assert run(capsys, "grant", OPERATOR, "--operator", "--yes", "--dsn", dsn)[0] == 0
    code, out, _ = run(capsys, "grant", REVIEWER, "--reviewer", "--yes", "--dsn", dsn)
    assert code == 0 and "GRANT USAGE ON SCHEMA backup TO bt_reviewer;" in out
    installed.execute(f"GRANT CREATE ON SCHEMA public TO {OPERATOR}")  # where restores land
    yield {role: make_conninfo(dsn, user=role) for role in (OPERATOR, REVIEWER)}
    for role in (OPERATOR, REVIEWER):
        installed.execute(f"DROP OWNED BY {role}")


def test_grant_prints_without_yes_off_a_terminal_and_changes_nothing(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _role(installed, "bt_maybe")
    try:
        code, out, err = run(capsys, "grant", "bt_maybe", "--operator", "--dsn", dsn)
        assert code == 0 and "GRANT EXECUTE ON FUNCTION backup.drop_table_backup(text) TO bt_maybe;" in out
        assert "--yes" in err
        assert not scalar(installed, "SELECT has_schema_privilege('bt_maybe', 'backup', 'USAGE')")
        code, _, err = run(capsys, "grant", "no_such_role", "--reviewer", "--dsn", dsn)
        assert code == 1 and err.count("\n") == 1 and "no_such_role does not exist" in err
    finally:
        installed.execute("DROP ROLE bt_maybe")


def test_every_routine_has_a_level(installed: psycopg.Connection) -> None:
    placed = {r[0] for r in installed.execute("SELECT routine FROM backup.routine_levels()")}
    present = {
        r[0]
        for r in installed.execute(
            "SELECT format('backup.%s(%s)', p.proname, replace(oidvectortypes(p.proargtypes), ', ', ',')) "
            "FROM pg_proc p WHERE p.pronamespace = 'backup'::regnamespace"
        )
    }
    assert placed == present


def test_an_operator_does_the_whole_job_from_the_cli(
    team: dict[str, str], installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dsn = team[OPERATOR]
    code, out, err = run(capsys, "create", "t", "--reason", "before the fix", "--kind", "manual", "--dsn", dsn)
    assert code == 0, err
    mine = out.strip()
    assert run(capsys, "list", "--dsn", dsn)[0] == 0
    assert run(capsys, "check", "--dsn", dsn)[0] == 1  # the unregistered table
    code, out, err = run(capsys, "adopt", "t_backup_20250101", "--dsn", dsn)
    assert code == 0, err
    critical = scalar(installed, "SELECT backup_table_name FROM backup.backup_metadata WHERE backup_kind = 'critical'")
    code, _, err = run(capsys, "archive", critical, "--to", str(tmp_path), "--yes", "--dsn", dsn)  # the superuser's
    assert code == 0, err
    code, out, err = run(capsys, "restore", critical, "--as", "t_back", "--dsn", dsn)
    assert code == 0 and "40 rows" in out, err
    code, out, err = run(capsys, "prune", "--apply", "--yes", "--dsn", dsn)  # drops the superuser's expired dailies
    assert code == 0 and "dropped 2" in out, err
    code, out, err = run(capsys, "drop", mine, "--yes", "--dsn", dsn)
    assert code == 0, err
    actors = {
        r[0] for r in installed.execute("SELECT DISTINCT actor FROM backup.backup_audit WHERE action <> 'create'")
    }
    assert actors == {OPERATOR}


def test_a_reviewer_browses_checks_and_plans_and_is_told_what_not(
    team: dict[str, str], installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = team[REVIEWER]
    assert run(capsys, "list", "--dsn", dsn)[0] == 0
    assert run(capsys, "list", "--json", "--dsn", dsn)[0] == 0
    assert run(capsys, "prune", "--dsn", dsn)[0] == 0
    code, out, err = run(capsys, "check", "--dsn", dsn)  # exact counts: estimates where it may not read
    assert code == 1 and "unregistered (1)" in out, err
    before = scalar(installed, "SELECT count(*) FROM backup.backup_metadata")
    name = scalar(installed, "SELECT backup_table_name FROM backup.backup_metadata LIMIT 1")
    for argv in (
        ("create", "t", "--reason", "no"),
        ("drop", name, "--yes"),
        ("prune", "--apply", "--yes"),
        ("adopt", "t_backup_20250101"),
    ):
        code, out, err = run(capsys, *argv, "--dsn", dsn)
        assert code == 1 and "permission denied" in err, (argv, err)
        assert err.count("\n") <= 2 and "Traceback" not in err, (argv, err)  # one line (per backup, for drop)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == before


async def test_the_tui_as_operator_and_as_reviewer(
    team: dict[str, str], installed: psycopg.Connection, make_app
) -> None:
    from tests.app.helpers import main_screen, screen_text, settle
    from tui.modals.drop import DropModal

    app = make_app(team[OPERATOR], as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"t", "tab", *"operator's copy", "enter")
        await settle(pilot)
        made = main_screen(pilot).table.current.backup_table_name
        await pilot.press("d")
        await settle(pilot)
        app.screen.query_one("#confirm").value = made
        await pilot.press("enter")
        await settle(pilot)
        assert "dropped 1" in screen_text(pilot)
    app = make_app(team[REVIEWER], as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert "backups" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        assert "finding" in screen_text(pilot)
        await pilot.press("escape", "d")
        await settle(pilot)
        assert isinstance(app.screen, DropModal)
        app.screen.query_one("#confirm").value = app.screen.expected
        await pilot.press("enter")
        await settle(pilot)
        assert "permission denied" in screen_text(pilot)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit WHERE action = 'drop'") == 1
