"""Every command, and the TUI's main flows, with look-alikes of every built-in planted in public and
a caller whose search_path puts public first (PGOPTIONS, as a shared shell profile would): the
planted code never runs (#13.1). The SQL API's own entry points: tests/sql/test_search_path.py."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests.attacks import HOSTILE_PATH, hits, plant
from tests.cli.test_cli import run
from tests.conftest import make_table


def _safe(dsn: str) -> psycopg.Connection:
    """The test's own look-ups: a session whose path is pg_catalog only."""
    return psycopg.connect(dsn, autocommit=True, options="-c search_path=pg_catalog")


@pytest.fixture
def hostile(installed: psycopg.Connection, dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    make_table(installed, "t", rows=20)
    for days in (40, 30, 20):
        name = installed.execute("SELECT backup.create_table_backup('t', 'old', 'daily')").fetchone()[0]
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    installed.execute("CREATE TABLE backup.t_backup_20250101 AS TABLE public.t")
    assert plant(installed, dsn) > 300
    monkeypatch.setenv("PGOPTIONS", f"-c search_path={HOSTILE_PATH.replace(' ', '')}")
    return dsn


def test_no_command_runs_planted_code(hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dsn = hostile
    with _safe(dsn) as conn:
        old = conn.execute(
            "SELECT backup_table_name FROM backup.backup_metadata ORDER BY backup_date LIMIT 1"
        ).fetchone()[0]
    ran = []

    def command(*argv: str) -> None:
        code, out, err = run(capsys, *argv, "--dsn", dsn)
        ran.append((argv[0], code, (out + err)[-300:]))

    command("install")
    command("list")
    command("list", "--json")
    command("list", "--csv")
    command("create", "t", "--reason", "under attack", "--kind", "monthly")
    command("prune")
    command("prune", "--json")
    command("check")
    command("check", "--json", "--fast")
    command("adopt", "t_backup_20250101")
    command("archive", old, "--to", str(tmp_path), "--yes")
    command("restore", old, "--as", "t_restored")
    command("grant", "bt_attacker", "--reviewer")
    with _safe(dsn) as conn:
        newest = conn.execute(
            "SELECT backup_table_name FROM backup.backup_metadata WHERE backup_kind = 'monthly'"
        ).fetchone()[0]
    command("drop", newest, "--yes")
    command("prune", "--apply", "--yes")
    command("check", "--fix", "exposure", "--yes")
    with _safe(dsn) as conn:
        assert hits(conn) == 0, ran
    assert [(name, code) for name, code, _ in ran if code not in (0, 1)] == [], ran
    assert not [r for r in ran if re.search(r"planted (function|operator|aggregate|type) ", r[2])], ran


async def test_the_tui_main_flows_run_no_planted_code(hostile: str, make_app) -> None:
    from tests.app.helpers import settle
    from tui.screens.check import CheckScreen
    from tui.screens.details import DetailsScreen
    from tui.screens.prune import PruneScreen

    app = make_app(hostile, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("escape", "p")
        await settle(pilot)
        assert isinstance(app.screen, PruneScreen)
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, CheckScreen)
        await pilot.press("escape", "c")
        await settle(pilot)
        await pilot.press(*"t", "tab", *"from the tui", "enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        name = app.screen.backups[0].backup_table_name
        app.screen.query_one("#confirm").value = name
        await pilot.press("enter")
        await settle(pilot)
    with _safe(hostile) as conn:
        assert hits(conn) == 0
        assert conn.execute("SELECT count(*) FROM backup.backup_audit WHERE action = 'drop'").fetchone()[0] == 1
