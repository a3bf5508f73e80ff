"""backup.drop_table_backups, the batch behind `drop` of several backups (#25): it runs with the
caller's rights, so a reviewer's batch is refused whole, and the run stops instead of trying every
backup (the next would be refused the same way)."""

from __future__ import annotations

import psycopg

from tests.conftest import make_table, scalar
from tests.trust.conftest import Team
from tui.db import Database, Settings
from tui.model import Outcome, StopReason


def _three_backups(installed: psycopg.Connection) -> list[str]:
    make_table(installed, "kept", rows=2)
    return [
        str(
            scalar(
                installed,
                "SELECT backup.create_table_backup('kept'::text, %s::text, 'manual'::text, 'public'::text)",
                (f"r{i}",),
            )
        )
        for i in range(3)
    ]


def test_a_reviewers_batch_drops_nothing_and_stops_the_run(team: Team, installed: psycopg.Connection) -> None:
    names = _three_backups(installed)
    with Database(Settings(dsn=team.reviewer)) as database:
        result = database.drop_many(names, batch_size=2)
    assert result.stopped is StopReason.PERMISSION
    assert [i.outcome for i in result.items] == [Outcome.FAILED, Outcome.FAILED, Outcome.NOT_ATTEMPTED]
    assert (result.items[0].error or "").startswith("permission denied")
    assert (
        scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = ANY(%s)", (names,))
        == 3
    )


def test_an_operators_batch_drops_like_its_lone_drops(team: Team, installed: psycopg.Connection) -> None:
    names = _three_backups(installed)
    with Database(Settings(dsn=team.operator)) as database:
        result = database.drop_many([*names, "backup_audit"], batch_size=10)
    assert [i.outcome for i in result.items] == [Outcome.DONE] * 3 + [Outcome.FAILED]
    assert (
        scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = ANY(%s)", (names,))
        == 0
    )
    assert scalar(installed, "SELECT to_regclass('backup.backup_audit') IS NOT NULL") is True
