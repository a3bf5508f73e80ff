"""The record cannot be forged (#22.6). In 0.2 operators could INSERT audit rows with any actor,
metadata rows and schedule rows; the read-only reviewer could record a damaged archive as 'ok'; and
a forged 'restore' audit row naming public.victim made `check` advise REVOKE and row-level
security on a live table (on Supabase, that cuts the app off).

Now every write is a function of ours that records the real caller, reviewers record nothing, and
check reads provenance: a restore's audit row counts only when backup.record_restore wrote it for
a table its own transaction created."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import scalar
from tests.trust.conftest import Team, connect_as


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO backup.backup_audit (actor, action, backup_table_name) VALUES ('postgres', 'drop', 'x')",
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name) VALUES ('shared', 'shared_x')",
        "INSERT INTO backup.backup_schedule (source_table, backup_kind, cron) VALUES ('secrets', 'daily', '* * * * *')",
        "UPDATE backup.backup_metadata SET created_by = 'postgres'",
        "DELETE FROM backup.backup_audit",
        "UPDATE backup.retention_policy SET keep_for = '1 second'",
        "TRUNCATE backup.backup_metadata",
    ],
)
def test_operators_and_reviewers_write_only_through_our_functions(
    team: Team, installed: psycopg.Connection, statement: str
) -> None:
    installed.execute("SELECT backup.create_table_backup('shared'::text, 'r'::text, 'manual'::text, 'public'::text)")
    for role in ("operator", "reviewer", "plain"):
        with connect_as(team, role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)  # type: ignore[arg-type]
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit") == 1


def test_the_audit_says_who_called_and_as_which_role(team: Team, installed: psycopg.Connection) -> None:
    op = team.names["operator"]
    installed.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(op), sql.Identifier(team.names["plain"])))
    with connect_as(team, "plain") as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(op)))
        name = conn.execute(
            "SELECT backup.create_table_backup('shared'::text, 'r'::text, 'manual'::text, 'public'::text)"
        ).fetchone()[0]
    actor, acting, detail = installed.execute(
        "SELECT actor, acting_role, detail FROM backup.backup_audit WHERE backup_table_name = %s::text", (name,)
    ).fetchone()
    assert actor == team.names["plain"] and acting == op  # the login, and the role it acted as
    assert detail["for"] == op  # whose rights the copy was checked against
    created_by = scalar(
        installed, "SELECT created_by FROM backup.backup_metadata WHERE backup_table_name = %s::text", (name,)
    )
    assert created_by == team.names["plain"]


def test_a_reviewer_cannot_record_a_verification(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'r'::text, 'manual'::text, 'public'::text)"
    )
    assert run(capsys, "archive", name, "--to", str(tmp_path), "--yes", "--dsn", team.dba)[0] == 0
    (tmp_path / name / "data.csv.zst").write_bytes(b"damaged")
    assert run(capsys, "verify", name, "--dsn", team.dba)[0] == 1  # recorded as damaged
    with connect_as(team, "reviewer") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT backup.record_verification(%s::text, 'ok'::text, 'looks fine'::text)", (name,))
    code, out, err = run(capsys, "verify", name, "--dsn", team.reviewer)  # reads, reports, records nothing
    assert code == 1 and "damaged" in out + err and "not recorded" in out + err, (out, err)
    code, out, _ = run(capsys, "check", "--fast", "--dsn", team.dba)
    assert code == 1 and "was damaged when verified" in out


def test_a_forged_restore_row_names_no_live_table_in_check(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.test_supabase import SUPABASE_ROLES

    for role in SUPABASE_ROLES:
        installed.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    installed.execute("CREATE TABLE public.victim (id int)")
    installed.execute("GRANT SELECT ON public.victim TO anon")  # the app reads it: that is its job
    # 0.2 let an operator write this row (INSERT on the audit); a 0.2 row lives on after an upgrade.
    installed.execute(
        "INSERT INTO backup.backup_audit (actor, action, backup_table_name, detail) "
        "VALUES ('postgres', 'restore', 'x', '{\"restored_as\": \"public.victim\"}')"
    )
    code, out, _ = run(capsys, "check", "--json", "--dsn", team.dba)
    assert [f for f in json.loads(out) if f["category"] == "restored"] == []
    with connect_as(team, "operator") as conn:
        for call in (
            "SELECT backup.record_restore('public.victim'::regclass, 'x'::text, NULL::text, false)",
            "SELECT backup.finish_restore('public.victim'::regclass, 'x'::text, NULL::text, false)",
        ):
            with pytest.raises(psycopg.Error) as err:
                conn.execute(call)  # type: ignore[arg-type]
            assert "not created by this restore" in str(err.value) or "must be owner" in str(err.value)
        conn.execute("CREATE TABLE att.old_table (id int)")  # its own, but made before
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not created by this restore"):
            conn.execute("SELECT backup.record_restore('att.old_table'::regclass, 'x'::text, NULL::text, false)")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit WHERE action = 'restore'") == 1
    assert scalar(installed, "SELECT has_table_privilege('anon', 'public.victim', 'SELECT')")


def test_a_real_restore_is_recorded_with_its_table_and_found_by_check(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    installed.execute("GRANT SELECT ON public.shared TO PUBLIC")
    name = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'r'::text, 'manual'::text, 'public'::text)"
    )
    installed.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(team.names["operator"])))
    code, out, err = run(capsys, "restore", name, "--as", "shared_back", "--dsn", team.operator)
    assert code == 0, err
    detail = scalar(installed, "SELECT detail FROM backup.backup_audit WHERE action = 'restore'")
    assert detail["restored_oid"] == scalar(installed, "SELECT 'public.shared_back'::regclass::oid")
    installed.execute("GRANT SELECT ON public.shared_back TO PUBLIC")
    code, out, _ = run(capsys, "check", "--json", "--dsn", team.dba)
    restored = [f for f in json.loads(out) if f["category"] == "restored"]
    assert [f["subject"] for f in restored] == ["shared_back"] or [f["subject"] for f in restored] == [
        "public.shared_back"
    ]
