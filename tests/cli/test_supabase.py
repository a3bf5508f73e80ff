"""The Supabase-shaped surface (#13.3 restore, #13.7): the wrappers work for service_role and
nobody else, the 2025 callers' named arguments still work, what a legacy install exposed is
reported with one statement that revokes it all, and a restore never hands a table to anon."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tests.legacy import build_legacy
from tui.db.schema import install

SUPABASE_ROLES = ("anon", "authenticated", "service_role")


@pytest.fixture
def supabase(conn: psycopg.Connection) -> psycopg.Connection:
    """Supabase's roles, and its default privileges: new tables in public go to anon and authenticated."""
    for role in SUPABASE_ROLES:
        conn.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    conn.execute("GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role")
    conn.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role")
    return conn


def _as(conn: psycopg.Connection, role: str, query: str) -> object:
    with conn.transaction():
        conn.execute(f"SET LOCAL ROLE {role}")
        return conn.execute(query).fetchall()


def test_service_role_reads_the_wrappers_with_the_grants_install_gives(supabase: psycopg.Connection) -> None:
    install(supabase)
    make_table(supabase, "t")
    supabase.execute("SELECT backup.create_table_backup('t', 'r', 'manual')")
    assert len(_as(supabase, "service_role", "SELECT * FROM public.backup_inventory_view")) == 1
    assert len(_as(supabase, "service_role", "SELECT * FROM public.get_backup_tables()")) == 1
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(supabase, role, "SELECT * FROM public.backup_inventory_view")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(supabase, role, "SELECT * FROM public.get_backup_tables()")


def test_check_reports_the_wrappers_granted_to_anon(
    supabase: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(supabase)
    supabase.execute("GRANT SELECT ON public.backup_inventory_view TO anon")
    supabase.execute("GRANT EXECUTE ON FUNCTION public.get_backup_tables() TO authenticated")
    code, out, _ = run(capsys, "check", "--json", "--dsn", dsn)
    details = {f["detail"] for f in json.loads(out)}
    assert code == 1
    assert "anon has SELECT on view public.backup_inventory_view" in details
    assert "authenticated has EXECUTE on function public.get_backup_tables()" in details


def test_the_2025_callers_named_arguments_work_after_install(supabase: psycopg.Connection) -> None:
    build_legacy(supabase)
    install(supabase)
    name = scalar(
        supabase, "SELECT backup.create_table_backup(p_table_name => 'users', p_reason => 'Pre-migration backup')"
    )
    assert scalar(supabase, "SELECT backup_kind FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)) == (
        "pre-migration"
    )


def test_a_legacy_installs_grants_are_reported_by_install_and_revoked_by_check_fix(
    supabase: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = build_legacy(supabase)
    supabase.execute("GRANT ALL ON ALL TABLES IN SCHEMA backup TO anon, authenticated")  # what 2025 left behind
    code, out, err = run(capsys, "install", "--dsn", dsn)
    assert code == 0 and "SELECT * FROM backup.revoke_exposure();" in err
    # Writes outside the role model go at install (and it says so); reads are exposure, for check.
    revoked = re.escape("revoked (outside the role model): REVOKE DELETE, INSERT, ") + "(MAINTAIN, )?"
    revoked += re.escape(f"REFERENCES, TRIGGER, TRUNCATE, UPDATE ON TABLE backup.{names['registered']} FROM anon")
    assert re.search(revoked, out), out
    assert not scalar(
        supabase, "SELECT has_table_privilege('anon', %s, 'TRUNCATE')", (f"backup.{names['registered']}",)
    )
    assert scalar(supabase, "SELECT has_table_privilege('anon', %s, 'SELECT')", (f"backup.{names['registered']}",))
    code, out, _ = run(capsys, "check", "--dsn", dsn)
    assert code == 1 and "fix them all: SELECT * FROM backup.revoke_exposure();" in out
    code, _, err = run(capsys, "check", "--fix", "exposure", "--dsn", dsn)  # not a terminal, no --yes
    assert code == 2 and "--yes" in err
    assert scalar(supabase, "SELECT has_table_privilege('anon', %s, 'SELECT')", (f"backup.{names['registered']}",))
    code, out, err = run(capsys, "check", "--fix", "exposure", "--yes", "--json", "--dsn", dsn)
    assert "ran: REVOKE ALL ON ALL TABLES IN SCHEMA backup FROM anon" in err
    assert [f for f in json.loads(out) if f["category"] == "exposure"] == []
    for role in ("anon", "authenticated"):
        assert not scalar(supabase, "SELECT has_schema_privilege(%s, 'backup', 'USAGE')", (role,))
        assert not scalar(
            supabase, "SELECT has_table_privilege(%s, %s, 'SELECT')", (role, f"backup.{names['registered']}")
        )


def test_restore_keeps_rls_and_takes_back_what_default_privileges_gave(
    supabase: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(supabase)
    supabase.execute(
        "CREATE TABLE public.profiles AS SELECT g AS id, 'secret ' || g AS note FROM generate_series(1, 100) g"
    )
    supabase.execute("ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY")  # anon sees nothing: no policy for it
    name = scalar(supabase, "SELECT backup.create_table_backup('profiles', 'before the purge', 'manual')")
    code, out, _ = run(capsys, "restore", name, "--as", "profiles_back", "--dsn", dsn)
    assert code == 0
    assert "row-level security enabled on public.profiles_back" in out
    assert "revoked what default privileges gave anon" in out and "authenticated" in out
    assert scalar(supabase, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.profiles_back'::regclass")
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(supabase, role, "SELECT count(*) FROM public.profiles_back")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(supabase, role, "DELETE FROM public.profiles_back")
    assert json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1]) == []
    # Someone hands it to anon again: check says so.
    supabase.execute("GRANT SELECT ON public.profiles_back TO anon")
    findings = json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1])
    assert [(f["category"], f["subject"]) for f in findings] == [("restored", "public.profiles_back")]
    assert "readable by anon" in findings[0]["detail"]


def test_check_reads_postgrest_settings_of_this_database_only(
    installed: psycopg.Connection, admin_dsn: str, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import uuid

    other = f"bt_other_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {other}")
        try:
            admin.execute(f"ALTER DATABASE {other} SET pgrst.db_schemas = 'public, backup'")
            assert json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1]) == []
            database = make_conninfo(dsn).split("dbname=")[1].split()[0]
            admin.execute(f"ALTER DATABASE {database} SET pgrst.db_schemas = 'public, backup'")
            findings = json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1])
            assert [f["subject"] for f in findings] == ["PostgREST"]
        finally:
            admin.execute(f"DROP DATABASE {other}")


@pytest.fixture
def restored(supabase: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]) -> str:
    """An installed schema, a backup of t, and that backup restored as public.t_back."""
    install(supabase)
    make_table(supabase, "t")
    name = scalar(supabase, "SELECT backup.create_table_backup('t', 'r', 'manual')")
    assert run(capsys, "restore", name, "--as", "t_back", "--dsn", dsn)[0] == 0
    return "public.t_back"


def test_no_splinter_lint_fires_on_anything_we_create(
    restored: str, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--json", "--dsn", dsn)
    assert (code, json.loads(out)) == (0, [])


def test_check_reports_each_splinter_lint_when_someone_breaks_it(
    supabase: psycopg.Connection, restored: str, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    supabase.execute("ALTER FUNCTION backup.age_words(interval) RESET search_path")
    supabase.execute("GRANT EXECUTE ON FUNCTION backup.drop_table_backup(text) TO anon")
    supabase.execute("ALTER VIEW public.backup_inventory_view RESET (security_invoker)")
    supabase.execute("GRANT SELECT ON public.backup_inventory_view TO authenticated")
    supabase.execute("ALTER TABLE public.t_back DISABLE ROW LEVEL SECURITY")
    findings = {(f["category"], f["subject"]) for f in json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1])}
    assert ("search_path", "backup.age_words(age interval)") in findings
    assert ("definer", "backup.drop_table_backup(backup_table_name text)") in findings
    assert ("definer", "public.backup_inventory_view") in findings
    assert ("restored", "public.t_back") in findings
