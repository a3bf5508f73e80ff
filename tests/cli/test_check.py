"""`check` and `adopt` on real PostgreSQL: a messy 2025 install, then cleaned up."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar
from tests.legacy import build_legacy
from tui.db.backups import create_backup
from tui.db.schema import install


def _findings(capsys: pytest.CaptureFixture[str], dsn: str, *extra: str) -> tuple[int, list[dict]]:
    code, out, _ = run(capsys, "check", "--json", "--dsn", dsn, *extra)
    return code, json.loads(out)


def test_legacy_install_reports_every_finding_and_exits_1(
    conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = build_legacy(conn)
    code, findings = _findings(capsys, dsn)
    assert code == 1
    by = {(f["category"], f["subject"]) for f in findings}
    assert ("missing", names["missing"]) in by
    assert ("unregistered", names["unregistered_compact"]) in by
    assert ("unregistered", names["unregistered_other"]) in by
    assert ("exposure", "backup") in by
    assert any(f["category"] == "search_path" and "create_table_backup" in f["subject"] for f in findings)
    assert any(f["category"] == "definer" and "create_table_backup" in f["subject"] for f in findings)
    fixes = {f["fix"] for f in findings}
    assert "REVOKE USAGE ON SCHEMA backup FROM anon;" in fixes
    code, out, _ = run(capsys, "check", "--dsn", dsn)
    assert "missing (1)" in out and "exposure (" in out and "fix: REVOKE USAGE ON SCHEMA backup FROM anon;" in out


def test_after_install_and_the_fixes_check_is_clean(
    conn: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = build_legacy(conn)
    install(conn)
    for f in _findings(capsys, dsn)[1]:
        if f["fix"].startswith(("REVOKE", "SELECT backup.drop_table_backup", "ALTER FUNCTION")):
            conn.execute(f["fix"])
    assert run(capsys, "adopt", names["unregistered_compact"], "--dsn", dsn)[0] == 0
    assert run(capsys, "adopt", names["unregistered_bare"], "--dsn", dsn)[0] == 0
    assert run(capsys, "adopt", names["unregistered_other"], "--source", "users", "--dsn", dsn)[0] == 0
    code, findings = _findings(capsys, dsn)
    assert (code, findings) == (0, [])
    assert "clean" in run(capsys, "check", "--dsn", dsn)[1]


def test_drift_after_writing_into_a_backup_exact_and_fast(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t", rows=100)
    name = create_backup(installed, "t", "r")
    installed.execute(f'INSERT INTO backup."{name}" SELECT g + 1000, NULL, NULL FROM generate_series(1, 50) g')
    code, findings = _findings(capsys, dsn)
    assert code == 1
    assert [f["detail"] for f in findings if f["category"] == "drift"] == ["recorded 100 rows, actual 150"]
    installed.execute(f'ANALYZE backup."{name}"')
    fast = [f["detail"] for f in _findings(capsys, dsn, "--fast")[1] if f["category"] == "drift"]
    assert fast == ["recorded 100 rows, estimated 150"]


def test_a_dependant_view_is_named_by_check_and_by_drop(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "t")
    name = create_backup(installed, "t", "r")
    installed.execute(f'CREATE VIEW public.uses_backup AS SELECT * FROM backup."{name}"')
    findings = _findings(capsys, dsn)[1]
    assert [f["detail"] for f in findings if f["category"] == "dependants"] == [
        "view public.uses_backup depends on it: drop refuses until it goes"
    ]
    code, _, err = run(capsys, "drop", name, "--yes", "--dsn", dsn)
    assert code == 1 and "view public.uses_backup" in err


def test_extra_roles_are_checked_too(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    installed.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') "
        "THEN CREATE ROLE reporting NOLOGIN; END IF; END $$"
    )
    installed.execute("GRANT SELECT ON backup.backup_metadata TO reporting")
    assert _findings(capsys, dsn)[0] == 0
    code, findings = _findings(capsys, dsn, "--role", "reporting")
    assert code == 1
    assert findings[0]["fix"] == "REVOKE SELECT ON backup.backup_metadata FROM reporting;"


def test_check_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--dsn", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert code == 2 and "cannot connect" in err


@pytest.mark.parametrize(
    ("name", "source", "date"),
    [
        ("users_backup_2025_03_01", "users", "2025-03-01T00:00:00+00:00"),
        ("users_backup_20250301", "users", "2025-03-01T00:00:00+00:00"),
        ("my_users_backup_2025_03_01_134501", "my_users", "2025-03-01T13:45:01+00:00"),
    ],
)
def test_adopt_infers_source_and_date_from_each_name_pattern(
    installed: psycopg.Connection, name: str, source: str, date: str
) -> None:
    installed.execute(f'CREATE TABLE backup."{name}" AS SELECT g FROM generate_series(1, 7) g')
    installed.execute("SELECT * FROM backup.adopt_backup(%s)", (name,))
    row = installed.execute(
        "SELECT original_table_name, backup_date, row_count FROM backup.backup_metadata WHERE backup_table_name = %s",
        (name,),
    ).fetchone()
    assert (row[0], row[1].isoformat(), row[2]) == (source, date, 7)
    assert scalar(installed, "SELECT action FROM backup.backup_audit WHERE backup_table_name = %s", (name,)) == "adopt"


def test_adopt_needs_a_source_when_the_name_says_nothing(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    installed.execute("CREATE TABLE backup.stray AS SELECT 1 AS x")
    code, _, err = run(capsys, "adopt", "stray", "--dsn", dsn)
    assert code == 1 and "cannot infer the source table" in err and "--source" in err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0


def test_wrappers_and_functions_grant_nothing_to_anon_or_public(installed: psycopg.Connection) -> None:
    installed.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') "
        "THEN CREATE ROLE anon NOLOGIN; END IF; END $$"
    )
    install(installed)  # again: nothing to apply, nothing widened
    rows = installed.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE (p.pronamespace = 'backup'::regnamespace OR p.oid = 'public.get_backup_tables()'::regprocedure)
           AND (has_function_privilege('anon', p.oid, 'EXECUTE')
                OR EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                            WHERE a.grantee = 0))
        """
    ).fetchall()
    assert rows == []
    assert scalar(installed, "SELECT has_table_privilege('anon', 'public.backup_inventory_view', 'SELECT')") is False
