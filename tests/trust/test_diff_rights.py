"""#27 diff runs with the caller's rights: a side it may not read is refused in one line, before
anything is read."""

from __future__ import annotations

import psycopg
import pytest

from tests.trust.conftest import Team
from tui.cli import main
from tui.db.backups import create_backup


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_side_the_caller_may_not_read_is_refused(installed: psycopg.Connection, team: Team, capsys) -> None:
    # The operator may read canary but not secrets: a backup of secrets (the DBA's) is not for it.
    name = create_backup(installed, "secrets", "dba only", "manual")
    code, out, err = run(capsys, "diff", name, "--dsn", team.operator)
    assert code == 1 and not out and "permission denied" in err and len(err.strip().splitlines()) == 1
