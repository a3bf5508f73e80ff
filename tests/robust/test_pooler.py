"""Nothing of ours outlives our transaction on a shared connection (#23). Through PgBouncer in
transaction mode, 0.2 left its session settings on the server connection (search_path =
pg_catalog, pg_temp; lock_timeout; backup.as_of; and from fleet, list --prometheus and --read-only
also statement_timeout = 30s and default_transaction_read_only = on): other applications on the
pool then failed ("relation does not exist", "cannot execute CREATE TABLE in a read-only
transaction"), and so did the tool's own later writes. A pool of one server connection: every
client gets the same session, so another client sees what ours left."""

from __future__ import annotations

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tests.robust.conftest import server_settings


@pytest.fixture
def defaults(installed: psycopg.Connection, pooled_dsn: str) -> dict[str, str | None]:
    make_table(installed, "t", rows=3)
    installed.execute("SELECT backup.create_table_backup('t'::text, 'r'::text, 'daily'::text, 'public'::text)")
    return server_settings(pooled_dsn)


@pytest.mark.parametrize(
    "argv",
    [
        ("list",),
        ("list", "--json", "--as-of", "2030-01-01"),
        ("--read-only", "list"),
        ("list", "--prometheus"),
        ("check", "--fast"),
        ("prune",),
        ("schedule", "list"),
        ("create", "t", "--reason", "through the pooler"),
        ("fleet", "--json"),
    ],
)
def test_another_client_of_the_pool_sees_the_servers_defaults_after_each_command(
    defaults: dict[str, str | None], pooled_dsn: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    if argv[0] == "fleet":
        argv = (*argv, "--dsn", pooled_dsn)
    code, _, err = run(capsys, *argv, "--dsn", pooled_dsn) if argv[0] != "fleet" else run(capsys, *argv)
    assert code in (0, 1), err
    after = server_settings(pooled_dsn)
    assert after["pid"] == defaults["pid"]  # the same server session: the pool has one
    assert after == defaults
    # And the next write of ours (or anybody's) works on it.
    code, out, err = run(capsys, "create", "t", "--reason", "after", "--dsn", pooled_dsn)
    assert code == 0, err


async def test_the_tui_through_the_pooler_leaves_nothing_behind(
    defaults: dict[str, str | None], pooled_dsn: str, installed: psycopg.Connection, make_app
) -> None:
    from tests.app.helpers import screen_text, settle

    app = make_app(pooled_dsn, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in screen_text(pilot)
        for key in ("enter", "escape", "p", "escape", "exclamation_mark", "escape", "S", "escape"):
            await pilot.press(key)
            await settle(pilot)
        assert server_settings(pooled_dsn) == defaults  # while the app is still connected
    with psycopg.connect(pooled_dsn, autocommit=True, prepare_threshold=None) as other:
        other.execute("CREATE TABLE public.app_table (id int)")  # not read-only, not pg_catalog's path
        assert scalar(other, "SELECT count(*) FROM app_table") == 0
