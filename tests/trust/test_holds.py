"""#27 holds and who asked: a held backup is kept by the plan and refused by drop, archive and prune
(saying who held it, when, why and until when), through every entry point and for an operator;
an expired hold counts for nothing; holding and releasing are audited with the person who asked
(--by, else the OS user), and so is every write."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_table, scalar
from tests.trust.conftest import Team, connect_as
from tui.cli import main
from tui.db import Database, Settings
from tui.db.backups import create_backup
from tui.model import Outcome, Rule, SchemaState


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _old_daily(conn: psycopg.Connection, table: str = "events") -> str:
    """A daily backup 30 days old (due for deletion) beside a newer one (the newest is always kept)."""
    make_table(conn, table, 5)
    old = create_backup(conn, table, "old daily", "daily")
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s",
        (old,),
    )
    create_backup(conn, table, "newer daily", "daily")
    return old


def _rule(conn: psycopg.Connection, name: str) -> tuple[str, str, str]:
    return conn.execute(
        "SELECT rule, decision, reason FROM backup.plan_prune(now(), ARRAY[%s]::text[])", (name,)
    ).fetchone()


def test_a_held_backup_is_kept_and_refused_by_drop_archive_and_prune(
    installed: psycopg.Connection, dsn: str, capsys, tmp_path: Path
) -> None:
    old = _old_daily(installed)
    assert _rule(installed, old)[1] == "delete"
    code, out, err = run(
        capsys, "hold", old, "--reason", "legal hold: case 114", "--until", "2999-01-01", "--by", "dana", "--dsn", dsn
    )
    assert code == 0 and f"held {old}" in out, err
    rule, decision, reason = _rule(installed, old)
    assert (rule, decision) == ("held", "keep")
    assert (
        reason.startswith("held by ")
        and " for dana on " in reason
        and "until 2999-01-01: legal hold: case 114" in reason
    )
    # drop, archive and prune --apply: each refuses in one line naming the hold, nothing changes.
    code, _, err = run(capsys, "drop", old, "--yes", "--dsn", dsn)
    assert code == 1 and "it is held by" in err and "release it first: backup-tui release" in err
    code, _, err = run(capsys, "archive", old, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "it is held by" in err
    assert run(capsys, "prune", "--apply", "--yes", "--dsn", dsn)[0] == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (old,)) == 1
    assert scalar(installed, "SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (old,)) is True
    # The inventory says so: list --json's rule and reason, the CLI's status column.
    code, out, _ = run(capsys, "list", "--dsn", dsn)
    assert any(old in line and " held " in f" {line} " for line in out.splitlines())
    # Released: the policy applies again, and prune takes it.
    code, out, _ = run(capsys, "release", old, "--by", "dana", "--dsn", dsn)
    assert code == 0 and "released 1" in out
    assert _rule(installed, old)[1] == "delete"
    assert run(capsys, "prune", "--apply", "--yes", "--dsn", dsn)[0] == 0
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (old,)) == 0
    audit = installed.execute(
        "SELECT action, requested_by, detail->>'reason' FROM backup.backup_audit "
        "WHERE backup_table_name = %s AND action IN ('hold', 'release') ORDER BY id",
        (old,),
    ).fetchall()
    assert audit == [("hold", "dana", "legal hold: case 114"), ("release", "dana", "legal hold: case 114")]


def test_an_expired_hold_falls_back_to_the_policy(installed: psycopg.Connection) -> None:
    old = _old_daily(installed)
    installed.execute("SELECT backup.hold_backup(%s::text, 'until the audit'::text, now() + interval '1 hour')", (old,))
    assert _rule(installed, old)[0] == "held"
    installed.execute(
        "UPDATE backup.backup_metadata SET hold_until = now() - interval '1 second' WHERE backup_table_name = %s",
        (old,),
    )
    assert _rule(installed, old)[:2] == ("expired-delete", "delete")
    installed.execute("SELECT backup.drop_table_backup(%s::text)", (old,))  # nothing holds it any more


@pytest.mark.parametrize(
    ("reason", "until", "words"),
    [
        ("", None, "a reason is required"),
        ("  ", None, "a reason is required"),
        ("audit", "2000-01-01", "would be over already"),
        ("audit", "infinity", "would be over already"),
    ],
)
def test_a_hold_needs_a_reason_and_a_future_end(
    installed: psycopg.Connection, reason: str, until: str | None, words: str
) -> None:
    old = _old_daily(installed)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=words):
        installed.execute("SELECT backup.hold_backup(%s::text, %s::text, %s::timestamptz)", (old, reason, until))
    assert _rule(installed, old)[0] != "held"


def test_hold_and_release_name_each_failure_and_go_on(installed: psycopg.Connection, dsn: str, capsys) -> None:
    old = _old_daily(installed)
    code, out, err = run(capsys, "hold", "no_such_backup", old, "--reason", "keep", "--dsn", dsn)
    assert code == 1 and f"held {old}" in out and "held 1, failed 1" in out
    assert "no registered backup named no_such_backup" in err
    code, out, err = run(capsys, "release", old, old, "--dsn", dsn)
    assert code == 1 and "released 1, failed 1" in out and "is not held" in err


def test_an_operator_holds_and_releases_a_reviewer_may_not(installed: psycopg.Connection, team: Team) -> None:
    old = _old_daily(installed)
    with connect_as(team, "reviewer") as reviewer, pytest.raises(psycopg.errors.InsufficientPrivilege):
        reviewer.execute("SELECT backup.hold_backup(%s::text, 'mine'::text, NULL::timestamptz)", (old,))
    with Database(Settings(dsn=team.operator, requested_by="ops on call")) as operator:
        assert [i.outcome for i in operator.hold_many([old], "keep for the incident", None).items] == [Outcome.DONE]
        (row,) = operator.inventory(SchemaState.CURRENT, names=[old])
        assert row.rule is Rule.HELD and row.status_words == "held"
        failed = operator.drop_many([old])
        assert failed.items[0].outcome is Outcome.FAILED and "it is held by" in (failed.items[0].error or "")
        assert [i.outcome for i in operator.release_many([old]).items] == [Outcome.DONE]
    held_by = scalar(installed, "SELECT detail->>'held_by' FROM backup.backup_audit WHERE action = 'release'")
    assert held_by == f"{team.names['operator']} for ops on call"


def test_who_asked_is_recorded_with_a_backup_and_every_audited_write(
    installed: psycopg.Connection, dsn: str, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_table(installed, "orders", 3)
    monkeypatch.setenv("SUDO_USER", "erin")
    monkeypatch.setenv("SSH_CLIENT", "203.0.113.7 51000 22")
    code, out, _ = run(capsys, "create", "orders", "--reason", "before the migration", "--dsn", dsn)
    assert code == 0
    name = out.strip()
    by = "SELECT requested_by FROM backup.backup_metadata WHERE backup_table_name = %s"
    assert scalar(installed, by, (name,)) == "erin (ssh from 203.0.113.7)"
    code, out, _ = run(capsys, "list", "--json", "--dsn", dsn)
    assert [row["requested_by"] for row in json.loads(out) if row["backup_table_name"] == name] == [
        "erin (ssh from 203.0.113.7)"
    ]
    code, out, _ = run(capsys, "drop", name, "--yes", "--by", "frank", "--dsn", dsn)
    assert code == 0
    audit = installed.execute(
        "SELECT action, actor, requested_by FROM backup.backup_audit WHERE backup_table_name = %s ORDER BY id", (name,)
    ).fetchall()
    role = scalar(installed, "SELECT current_user")
    assert [(a, who) for a, _, who in audit] == [("create", "erin (ssh from 203.0.113.7)"), ("drop", "frank")]
    assert {actor for _, actor, _ in audit} == {role}  # the role that connected stays the actor
    # A value leaked in from the session (PGOPTIONS, a pooler) never applies: ours is set each time.
    monkeypatch.setenv("PGOPTIONS", "-c backup.requested_by=mallory")
    make_table(installed, "events", 2)
    code, out, _ = run(capsys, "create", "events", "--reason", "x", "--by", "grace", "--dsn", dsn)
    assert code == 0 and scalar(installed, by, (out.strip(),)) == "grace"


def test_the_nightly_procedure_pg_cron_calls_keeps_a_held_backup(installed: psycopg.Connection) -> None:
    """apply_prune (what `schedule cron --install` schedules) reads the same plan: held stays."""
    held = _old_daily(installed, "ledger")
    due = _old_daily(installed, "events")
    installed.execute("SELECT backup.hold_backup(%s::text, 'audit'::text, NULL::timestamptz)", (held,))
    installed.execute("CALL backup.apply_prune()")
    left = {r[0] for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata")}
    assert held in left and due not in left
