"""Every path from anon/authenticated/PUBLIC to the backups is found (#22.7). In 0.2 `check --fix
exposure` missed a global default privilege (`ALTER DEFAULT PRIVILEGES ... GRANT SELECT ON TABLES TO
anon` without IN SCHEMA) and role membership (`GRANT web TO anon`, web holding grants on backup:
after the fix, `SET ROLE anon; SELECT ... FROM backup.x` still worked), and flagged no view in
public that reads our tables with its owner's rights. Each is verified with SET ROLE anon."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.cli.test_supabase import SUPABASE_ROLES
from tests.conftest import make_table, scalar


@pytest.fixture
def supabase_roles(installed: psycopg.Connection) -> psycopg.Connection:
    for role in SUPABASE_ROLES:
        installed.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    installed.execute("GRANT USAGE ON SCHEMA public TO anon, authenticated")
    make_table(installed, "t", rows=3)
    return installed


@pytest.fixture
def web(supabase_roles: psycopg.Connection) -> Iterator[str]:
    """A role of the application's, which anon inherits."""
    name = f"bt_web_{uuid.uuid4().hex[:8]}"
    supabase_roles.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    yield name
    supabase_roles.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    supabase_roles.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _anon_reads(conn: psycopg.Connection, relation: str) -> bool:
    try:
        with conn.transaction():
            conn.execute("SET LOCAL ROLE anon")
            conn.execute(f"SELECT count(*) FROM {relation}")  # type: ignore[arg-type]
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False


def _check(capsys: pytest.CaptureFixture[str], dsn: str) -> list[dict]:
    code, out, err = run(capsys, "check", "--json", "--dsn", dsn)
    assert code in (0, 1), err
    return json.loads(out)


def test_a_global_default_privilege_of_the_owner_is_found_and_revoked(
    supabase_roles: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = supabase_roles
    conn.execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO anon")  # no IN SCHEMA: every new table
    try:
        name = scalar(conn, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
        # Every backup made takes it back (its ACL is reset), whatever the check says.
        assert not scalar(conn, "SELECT has_table_privilege('anon', format('backup.%%I', %s::text), 'SELECT')", (name,))
        found = [f for f in _check(capsys, dsn) if f["category"] == "exposure" and "default privileges" in f["subject"]]
        assert found and "anywhere (a global default, backups included)" in found[0]["detail"], found
        code, _, err = run(capsys, "check", "--fix", "exposure", "--yes", "--dsn", dsn)
        assert "ALTER DEFAULT PRIVILEGES FOR ROLE" in err and "REVOKE ALL ON TABLES FROM anon" in err, err
        assert not scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a "
            "WHERE d.defaclnamespace = 0 AND a.grantee = 'anon'::regrole)",
        )
        conn.execute("CREATE TABLE backup.by_hand (x int)")  # even a table made by hand: nothing for anon
        assert not scalar(conn, "SELECT has_table_privilege('anon', 'backup.by_hand', 'SELECT')")
    finally:
        conn.execute("ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM anon")


def test_membership_that_passes_the_backups_to_anon_is_reported_with_its_fix(
    supabase_roles: psycopg.Connection, web: str, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = supabase_roles
    name = scalar(conn, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    relation = sql.Identifier("backup", name).as_string(conn)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA backup TO {}").format(sql.Identifier(web)))
    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(relation), sql.Identifier(web)))
    conn.execute(sql.SQL("GRANT {} TO anon").format(sql.Identifier(web)))
    assert _anon_reads(conn, relation)
    run(capsys, "check", "--fix", "exposure", "--yes", "--dsn", dsn)  # direct grants: none to revoke
    assert _anon_reads(conn, relation)  # what 0.2 left: the fix ran, anon still reads
    found = [f for f in _check(capsys, dsn) if f["subject"] == f"role {web}"]
    assert found and f"anon inherits the rights of {web}" in found[0]["detail"], found
    conn.execute(found[0]["fix"])  # the statement check gives
    assert not _anon_reads(conn, relation)
    assert not [f for f in _check(capsys, dsn) if f["subject"] == f"role {web}"]


def test_a_view_in_public_over_our_tables_with_its_owners_rights_is_flagged(
    supabase_roles: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = supabase_roles
    conn.execute("SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    conn.execute("CREATE VIEW public.leak AS SELECT backup_table_name, backup_reason FROM backup.backup_metadata")
    conn.execute("GRANT SELECT ON public.leak TO anon")
    assert _anon_reads(conn, "public.leak")
    found = [f for f in _check(capsys, dsn) if f["subject"] == "leak" or f["subject"] == "public.leak"]
    assert found and "security_definer_view" in found[0]["detail"] and "backup.backup_metadata" in found[0]["detail"]
    conn.execute(found[0]["fix"])
    assert not _anon_reads(conn, "public.leak")
    assert not [f for f in _check(capsys, dsn) if f["subject"] in ("leak", "public.leak")]
