"""An upgrade from 0.2 takes back the grants the role model no longer has, and says so. 0.2's
`grant --operator` gave CREATE on schema backup, INSERT on the metadata and audit, INSERT/UPDATE/
DELETE on schedules and SELECT on every table there; its reviewers could record verifications; and
its operators' backups were their own tables (create ran with the caller's rights)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tests.trust.conftest import Team, connect_as


def test_install_takes_back_what_0_2_granted_and_takes_over_operators_backups(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    op, rev = (sql.Identifier(team.names[r]) for r in ("operator", "reviewer"))
    make_table(installed, "private", rows=2)  # the operator may not read it
    theirs = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'op'::text, 'manual'::text, 'public'::text)"
    )
    private = scalar(
        installed, "SELECT backup.create_table_backup('private'::text, 'r'::text, 'manual'::text, 'public'::text)"
    )
    # What 0.2 left behind.
    installed.execute(sql.SQL("ALTER TABLE backup.{} OWNER TO {}").format(sql.Identifier(theirs), op))
    installed.execute(
        sql.SQL(
            "GRANT CREATE ON SCHEMA backup TO {op};"
            "GRANT INSERT ON backup.backup_metadata, backup.backup_audit TO {op};"
            "GRANT INSERT, UPDATE, DELETE ON backup.backup_schedule TO {op};"
            "GRANT SELECT ON ALL TABLES IN SCHEMA backup TO {op};"
            "GRANT EXECUTE ON FUNCTION backup.record_verification(text, text, text) TO {rev}"
        ).format(op=op, rev=rev)
    )
    code, out, err = run(capsys, "install", "--dsn", team.dba)
    assert code == 1 and f"table backup.{theirs} (owned by {team.names['operator']})" in err, err
    code, out, err = run(capsys, "install", "--take-ownership", "--dsn", team.dba)
    assert code == 0, err
    assert f"took over: ALTER TABLE backup.{theirs} OWNER TO CURRENT_USER" in out
    for said in (
        f"REVOKE CREATE ON SCHEMA backup FROM {team.names['operator']}",
        f"REVOKE INSERT ON TABLE backup.backup_metadata FROM {team.names['operator']}",
        f"REVOKE DELETE, INSERT, UPDATE ON TABLE backup.backup_schedule FROM {team.names['operator']}",
        f"REVOKE SELECT ON backup.{private} FROM {team.names['operator']}",
        f"REVOKE EXECUTE ON FUNCTION backup.record_verification(text,text,text) FROM {team.names['reviewer']}",
    ):
        assert f"revoked (outside the role model): {said}" in out, (said, out)
    with connect_as(team, "operator") as conn:
        for statement in (
            "CREATE TABLE backup.x (i int)",
            "INSERT INTO backup.backup_audit (action) VALUES ('drop')",
            sql.SQL("SELECT * FROM backup.{}").format(sql.Identifier(private)),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)  # type: ignore[arg-type]
        # What stays: reading the backup of a table it may read, and every write through our functions.
        assert conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(theirs))).fetchone()[0] == 5
        assert conn.execute("SELECT backup.drop_table_backup(%s::text)", (theirs,)).fetchone()[0] > 0
    code, out, _ = run(capsys, "install", "--dsn", team.dba)
    assert code == 0 and "up to date" in out and "revoked" not in out  # nothing left to take back
    code, out, _ = run(capsys, "check", "--json", "--dsn", team.dba)
    assert '"category": "foreign"' not in out
