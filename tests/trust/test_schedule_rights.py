"""Schedules and backups carry their author's rights (#22.2). In 0.2 an operator without SELECT on
public.secrets scheduled it, and pg_catalog.pg_authid, and read both (password hashes included)
after the DBA's next `run-due`; `create_table_backup` then granted SELECT on every copy to every
operator. Now a schedule records its author; whoever runs it, the copy is made only while the
author may read the whole source; catalogs are refused; a backup is readable by its maker, the
owner and the operators who may read its source."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tests.trust.conftest import Team, connect_as


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ("secrets", "may not read"),
        ("pg_catalog.pg_authid", "system catalog"),
        ("information_schema.tables", "system catalog"),
        ("pg_catalog.pg_class", "system catalog"),
    ],
)
def test_an_operator_cannot_schedule_what_it_cannot_read(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], table: str, says: str
) -> None:
    schema, _, name = table.rpartition(".")
    argv = ["schedule", "add", name, "--kind", "daily", "--cron", "* * * * *", "--dsn", team.operator]
    code, _, err = run(capsys, *argv, *(["--schema", schema] if schema else []))
    assert code == 1 and says in err and err.count("\n") == 1, err
    with connect_as(team, "operator") as op, pytest.raises(psycopg.Error):  # the SQL API says the same
        op.execute(
            "SELECT backup.add_schedule(%s::text, 'daily'::text, '* * * * *'::text, NULL::text, %s::text)",
            (name, schema or "public"),
        )
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0


def test_the_dba_running_an_operators_schedule_copies_only_what_the_author_may_still_read(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    op = team.names["operator"]
    code, _, err = run(
        capsys, "schedule", "add", "shared", "--kind", "daily", "--cron", "* * * * *", "--dsn", team.operator
    )
    assert code == 0, err
    installed.execute("UPDATE backup.backup_schedule SET created_at = now() - interval '1 hour'")
    installed.execute(sql.SQL("REVOKE SELECT ON public.shared FROM {}").format(sql.Identifier(op)))
    code, out, err = run(capsys, "run-due", "--dsn", team.dba)  # the DBA's cron line
    assert code == 1 and out == "" and "may not back up public.shared any more" in err, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    row = installed.execute("SELECT last_result, last_error, created_by FROM backup.backup_schedule").fetchone()
    assert row[0] == "failed" and "may not read" in row[1] and row[2] == op
    # The grant back: the next run makes it, and the author reads its own backup.
    installed.execute(sql.SQL("GRANT SELECT ON public.shared TO {}").format(sql.Identifier(op)))
    installed.execute("SELECT * FROM backup.run_schedule((SELECT id FROM backup.backup_schedule), now(), false)")
    name = scalar(installed, "SELECT backup_table_name FROM backup.backup_metadata")
    with connect_as(team, "operator") as conn:
        assert conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name))).fetchone()[0] == 5
    detail = scalar(installed, "SELECT detail FROM backup.backup_audit WHERE action = 'create'")
    assert detail["for"] == op and detail["schedule"] is not None


def test_a_column_the_author_may_not_read_fails_the_run(team: Team, installed: psycopg.Connection) -> None:
    op = team.names["operator"]
    installed.execute("CREATE TABLE public.people (id int, name text, password_hash text)")
    installed.execute("INSERT INTO public.people VALUES (1, 'ann', 'x')")
    installed.execute(sql.SQL("GRANT SELECT ON public.people TO {}").format(sql.Identifier(op)))
    with connect_as(team, "operator") as conn:
        conn.execute(
            "SELECT backup.add_schedule('people'::text, 'daily'::text, '* * * * *'::text, NULL::text, 'public'::text)"
        )
    installed.execute(sql.SQL("REVOKE SELECT ON public.people FROM {}").format(sql.Identifier(op)))
    installed.execute(sql.SQL("GRANT SELECT (id, name) ON public.people TO {}").format(sql.Identifier(op)))
    installed.execute("CALL backup.run_due_backups(now() + interval '2 minutes')")  # as pg_cron's superuser would
    error = scalar(installed, "SELECT last_error FROM backup.backup_schedule")
    assert "may not read column password_hash" in error
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0


def test_row_level_security_stops_a_schedule_whose_author_would_see_only_some_rows(
    team: Team, installed: psycopg.Connection
) -> None:
    op = team.names["operator"]
    installed.execute("ALTER TABLE public.shared ENABLE ROW LEVEL SECURITY")
    installed.execute(sql.SQL("CREATE POLICY mine ON public.shared TO {} USING (id = 1)").format(sql.Identifier(op)))
    with connect_as(team, "operator") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        conn.execute("SELECT backup.create_table_backup('shared'::text, 'r'::text, 'daily'::text, 'public'::text)")
    assert "only the rows its policies let it see" in str(err.value)


def test_a_new_backup_is_read_by_its_maker_and_those_who_may_read_the_source_only(
    team: Team, installed: psycopg.Connection
) -> None:
    suffix = team.names["operator"].rsplit("_", 1)[1]
    other = f"bt_other_{suffix}"
    installed.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(other)))
    try:
        installed.execute("SELECT backup.grant_role(%s::text, 'operator'::text)", (other,))
        make_table(installed, "private", rows=2)
        installed.execute(
            sql.SQL("GRANT SELECT ON public.private TO {}").format(sql.Identifier(team.names["operator"]))
        )
        with connect_as(team, "operator") as conn:
            name = conn.execute(
                "SELECT backup.create_table_backup('private'::text, 'mine'::text, 'manual'::text, 'public'::text)"
            ).fetchone()[0]
            assert (
                conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name))).fetchone()[0] == 2
            )
        readers = {
            r[0]
            for r in installed.execute(
                "SELECT grantee::regrole::text FROM pg_class c, aclexplode(c.relacl) a "
                "WHERE c.oid = format('backup.%%I', %s::text)::regclass AND a.grantee <> c.relowner",
                (name,),
            )
        }
        assert readers == {team.names["operator"]}  # not the other operator, not the reviewer
        owner = scalar(installed, "SELECT relowner::regrole::text FROM pg_class WHERE relname = %s::text", (name,))
        assert owner == scalar(installed, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'backup'")
        with (
            psycopg.connect(make_conninfo(team.dba, user=other), autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name)))
    finally:
        installed.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(other)))
        installed.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(other)))
