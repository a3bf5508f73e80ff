"""#27 `D` in the TUI: the diff of the current backup against its live table, the same words as
the CLI, hostile values literal, the changed values marked; escape goes back."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tests.app.helpers import main_screen, screen_text, settle
from tui.screens.diff import DiffScreen


async def test_capital_d_shows_what_changed_since_the_backup(
    installed: psycopg.Connection, dsn: str, awkward_backup: str, make_app
) -> None:
    source = installed.execute(
        "SELECT source_schema, original_table_name FROM backup.backup_metadata WHERE backup_table_name = %s",
        (awkward_backup,),
    ).fetchone()
    table = sql.Identifier(*source)
    key = installed.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (sql.SQL("{}").format(table).as_string(installed),),
    ).fetchone()
    assert key is not None  # the awkward table has a primary key: rows are matched by it
    installed.execute(sql.SQL("DELETE FROM {} WHERE ctid = (SELECT min(ctid) FROM {})").format(table, table))
    app = make_app(dsn, as_of=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert main_screen(pilot).table.current.backup_table_name == awkward_backup
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        text = " ".join(screen_text(pilot).split())
        assert f"by key {key[0]}" in text and "1 deleted since, 0 added since, 0 changed" in text
        assert "deleted since (only in the backup), the first 1:" in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DiffScreen)
