"""The installer's rights are never lent to a table someone else controls (#22.4), and install
never adopts a schema someone else owns (#22.5).

On a managed PostgreSQL the installer is not a superuser (Supabase's `postgres`). In 0.2
`adopt_backup` and `archive_table_backup` counted a table's rows with the installer's rights; an
operator-made table in schema backup with a row-level security policy calling the operator's
function ran it as the installer. And a schema `backup` created first by a role with CREATE on the
database was adopted by install, whose later `drop` ran that role's replacement of
backup.drop_table_backup."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tui.db.schema import install


@pytest.fixture
def roles(conn: psycopg.Connection, dsn: str) -> Iterator[dict[str, str]]:
    """An installer that is not a superuser (CREATE on the database, as on Supabase), and another
    ordinary role with CREATE on the database too: the one who would plant."""
    suffix = uuid.uuid4().hex[:8]
    names = {"installer": f"bt_installer_{suffix}", "mallory": f"bt_mallory_{suffix}"}
    dbname = conn.info.dbname
    for role in names.values():
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(dbname), sql.Identifier(role)))
    for role in names.values():  # on PostgreSQL 15+, public is its owner's: the wrappers live there
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
    yield {role: make_conninfo(dsn, user=name) for role, name in names.items()} | {"names": names}  # type: ignore[dict-item]
    with psycopg.connect(dsn, autocommit=True) as admin:
        for role in names.values():
            admin.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _marker(conn: psycopg.Connection, schema: str) -> None:
    """schema.planted(): counts its runs in schema.ran (anyone may advance it)."""
    conn.execute(sql.SQL("CREATE SEQUENCE {}.ran").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("GRANT USAGE, UPDATE, SELECT ON SEQUENCE {}.ran TO PUBLIC").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION {s}.planted() RETURNS boolean LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM nextval('{s}.ran'); RETURN true; END $$"
        ).format(s=sql.Identifier(schema))
    )
    conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {}.planted() TO PUBLIC").format(sql.Identifier(schema)))


def _ran(conn: psycopg.Connection, schema: str) -> int:
    last, called = conn.execute(
        sql.SQL("SELECT last_value, is_called FROM {}.ran").format(sql.Identifier(schema))
    ).fetchone()  # type: ignore[misc]
    return int(last) if called else 0


def test_a_table_another_role_owns_in_schema_backup_is_never_counted_with_the_installers_rights(
    conn: psycopg.Connection, roles: dict, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    mallory = roles["names"]["mallory"]
    with psycopg.connect(roles["installer"], autocommit=True) as installer:
        install(installer)
        make_table(installer, "live", rows=4)
        installer.execute("SELECT backup.create_table_backup('live'::text, 'r'::text, 'manual'::text, 'public'::text)")
    with psycopg.connect(roles["mallory"], autocommit=True) as m:
        m.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(mallory)))
        _marker(m, mallory)
    # What 0.2 let an operator do (CREATE on schema backup): a table of its own there, whose policy
    # runs its function for whoever reads it, forced on its owner too.
    conn.execute(sql.SQL("CREATE TABLE backup.live_backup_20250101 (id int)"))
    conn.execute("INSERT INTO backup.live_backup_20250101 VALUES (1), (2)")
    conn.execute(sql.SQL("ALTER TABLE backup.live_backup_20250101 OWNER TO {}").format(sql.Identifier(mallory)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA backup TO {}").format(sql.Identifier(mallory)))  # as 0.2's operator had
    with psycopg.connect(roles["mallory"], autocommit=True) as m:
        m.execute("ALTER TABLE backup.live_backup_20250101 ENABLE ROW LEVEL SECURITY")
        m.execute(
            sql.SQL("CREATE POLICY p ON backup.live_backup_20250101 USING ({}.planted())").format(
                sql.Identifier(mallory)
            )
        )
        m.execute("GRANT SELECT ON backup.live_backup_20250101 TO PUBLIC")
    dsn = roles["installer"]
    code, _, err = run(capsys, "adopt", "live_backup_20250101", "--dsn", dsn)
    assert code == 1 and f"belongs to {mallory}" in err and err.count("\n") == 1, err
    code, out, _ = run(capsys, "check", "--dsn", dsn)  # exact counts: but not of that table
    assert code == 1 and f"table backup.live_backup_20250101 (owned by {mallory}" not in out
    assert f"owned by {mallory}, not by" in out and "backup-tui install --take-ownership" in out
    # Registered (as 0.2's operator's create did), it is neither dropped nor archived with the owner's rights.
    conn.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, row_count) "
        "VALUES ('live', 'live_backup_20250101', 2)"
    )
    for argv in (
        ("drop", "live_backup_20250101", "--yes"),
        ("archive", "live_backup_20250101", "--to", str(tmp_path), "--yes"),
    ):
        code, _, err = run(capsys, *argv, "--dsn", dsn)
        assert code == 1 and f"belongs to {mallory}" in err, (argv, err)
    assert _ran(conn, mallory) == 0
    assert scalar(conn, "SELECT to_regclass('backup.live_backup_20250101') IS NOT NULL")


def test_install_refuses_a_backup_schema_another_role_made_and_takes_it_over_when_told(
    conn: psycopg.Connection, roles: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    mallory = roles["names"]["mallory"]
    with psycopg.connect(roles["mallory"], autocommit=True) as m:
        m.execute("CREATE SCHEMA backup")
        _marker(m, "backup")
        # Its own drop_table_backup, ready for the DBA's first drop; and an extra look-alike.
        m.execute(
            "CREATE FUNCTION backup.drop_table_backup(backup_table_name text) RETURNS bigint LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM backup.planted(); RETURN 0; END $$"
        )
        m.execute(
            "CREATE FUNCTION backup.cron_field(text, integer, integer, text, text) RETURNS integer[] "
            "LANGUAGE plpgsql AS $$ BEGIN PERFORM backup.planted(); RETURN '{}'; END $$"
        )
    code, out, err = run(capsys, "install", "--dsn", conn.info.dsn)
    assert code == 1 and f"schema backup (owned by {mallory})" in err and "--take-ownership" in err
    assert err.count("\n") == 1 and "nothing was changed" in err, err
    assert scalar(conn, "SELECT to_regclass('backup.backup_metadata') IS NULL")  # nothing installed
    code, out, err = run(capsys, "install", "--take-ownership", "--dsn", conn.info.dsn)
    assert code == 0, err
    assert "took over: ALTER SCHEMA backup OWNER TO CURRENT_USER" in out
    assert "took over: ALTER FUNCTION backup.drop_table_backup(text) OWNER TO CURRENT_USER" in out
    me = conn.info.user
    assert scalar(conn, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'backup'") == me
    assert not scalar(conn, "SELECT has_schema_privilege(%s, 'backup', 'CREATE')", (mallory,))
    make_table(conn, "t", rows=2)
    name = scalar(conn, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    code, out, err = run(capsys, "drop", name, "--yes", "--dsn", conn.info.dsn)
    assert code == 0 and "dropped 1" in out, err
    assert _ran(conn, "backup") == 0  # our drop_table_backup, re-applied: not the planted one
    code, out, _ = run(capsys, "check", "--dsn", conn.info.dsn)  # the extra look-alike is named
    assert code == 1 and "function backup.cron_field(text,integer,integer,text,text)" in out
    assert "function backup.planted()" in out and "DROP FUNCTION backup.planted();" in out
