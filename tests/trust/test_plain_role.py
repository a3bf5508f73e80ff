"""A role nobody granted anything (#22, anyone else): nothing in schema backup, from any entry point,
and always one clear line (the CLI) or a readable message (the TUI); the canary never changes."""

from __future__ import annotations

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import scalar
from tests.trust.conftest import CANARY_ROWS, Team, canary, connect_as


@pytest.mark.parametrize(
    "argv",
    [
        ("list",),
        ("create", "canary", "--reason", "mine now"),
        ("schedule", "add", "canary", "--kind", "daily", "--cron", "* * * * *"),
        ("prune", "--apply", "--yes"),
        ("check",),
        ("grant", "postgres", "--operator", "--yes"),
    ],
)
def test_a_plain_role_gets_one_line_and_changes_nothing(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    installed.execute("SELECT backup.create_table_backup('canary'::text, 'r'::text, 'daily'::text, 'public'::text)")
    code, out, err = run(capsys, *argv, "--dsn", team.plain)
    assert code in (1, 2) and "permission denied" in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit") == 1
    assert canary(installed) == [(i, f"row {i}") for i in range(1, CANARY_ROWS + 1)]


def test_the_sql_api_refuses_a_plain_role_every_function(team: Team, installed: psycopg.Connection) -> None:
    routines = installed.execute(
        "SELECT p.oid::bigint, p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'backup'::regnamespace "
        "AND p.prorettype <> 'trigger'::regtype"
    ).fetchall()
    with connect_as(team, "plain") as conn:
        executable = [
            name
            for oid, name in routines
            if conn.execute("SELECT has_function_privilege(%s::bigint::oid, 'EXECUTE')", (oid,)).fetchone()[0]
        ]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM backup.backup_metadata")
    assert executable == []


async def test_the_tui_as_a_plain_role_says_why_and_stays_up(team: Team, make_app) -> None:
    from tests.app.helpers import screen_text, settle

    app = make_app(team.plain, as_of=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        for key in ("r", "S", "escape", "exclamation_mark", "escape", "c"):
            await pilot.press(key)
            await settle(pilot)
        assert app.is_running
        assert "permission denied" in screen_text(pilot) or "not connected" in screen_text(pilot)
