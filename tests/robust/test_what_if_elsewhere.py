"""A what-if date set where the tool did not set it (#23): `ALTER DATABASE ... SET backup.as_of`
(or for a role, or in PGOPTIONS) changed the statuses the 0.2 TUI showed (fresh dailies appeared
`expired`) without the WHAT-IF badge. Our sessions ignore such a setting: statuses are the real
current time's unless --as-of says otherwise, and then the badge says so."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar


@pytest.fixture
def elsewhere(installed: psycopg.Connection, dsn: str) -> str:
    make_table(installed, "t", rows=3)
    for _ in range(2):  # the newest is always kept: the other one says what the policy thinks
        scalar(installed, "SELECT backup.create_table_backup('t'::text, 'fresh'::text, 'daily'::text, 'public'::text)")
    dbname = installed.info.dbname
    installed.execute(sql.SQL("ALTER DATABASE {} SET backup.as_of = '2030-07-04'").format(sql.Identifier(dbname)))
    return dsn


def test_the_cli_ignores_a_what_if_date_set_for_the_database(
    elsewhere: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list", "--json", "--dsn", elsewhere)
    assert code == 0 and sorted(r["status"] for r in json.loads(out)) == ["keep", "keep"]
    code, out, _ = run(capsys, "list", "--json", "--as-of", "2030-07-04", "--dsn", elsewhere)
    assert sorted(r["status"] for r in json.loads(out)) == ["expired", "keep"]  # asked for: a preview


async def test_the_tui_ignores_it_too(elsewhere: str, make_app) -> None:
    from tests.app.helpers import main_screen, screen_text, settle

    app = make_app(elsewhere, as_of=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert sorted(str(b.status) for b in main_screen(pilot).listing.all) == ["keep", "keep"]
        assert "WHAT-IF" not in screen_text(pilot)
    app = make_app(elsewhere, as_of="2030-07-04")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert sorted(str(b.status) for b in main_screen(pilot).listing.all) == ["expired", "keep"]
        assert "WHAT-IF" in screen_text(pilot)
