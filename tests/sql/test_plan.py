"""backup.plan_prune, prune_batch, apply_prune and mark_reviewed on real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from tests.conftest import make_table, scalar
from tui.db import Settings, connect
from tui.db.backups import create_backup


def _backup(conn: psycopg.Connection, table: str, kind: str, days: float) -> str:
    name = create_backup(conn, table, f"{kind} copy", kind)
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - %s WHERE backup_table_name = %s",
        (timedelta(days=days), name),
    )
    return name


def _plan(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    return {
        r[0]: (r[1], r[2]) for r in conn.execute("SELECT backup_table_name, decision, reason FROM backup.plan_prune()")
    }


@pytest.fixture
def table(installed: psycopg.Connection) -> str:
    make_table(installed, "experts", rows=5)
    return "experts"


@pytest.mark.parametrize(
    ("kind", "days", "decision", "reason"),
    [
        ("daily", 6.9, "keep", "daily, 6 days old, kept 7 days"),
        ("daily", 12, "delete", "daily, 12 days old, kept 7 days"),
        ("weekly", 27, "keep", "weekly, 27 days old, kept 4 weeks"),
        ("weekly", 40, "delete", "weekly, 40 days old, kept 4 weeks"),
        ("monthly", 364, "keep", "monthly, 11 months old, kept 12 months"),
        ("monthly", 400, "archive", "monthly, 13 months old: move to cold storage"),
        ("manual", 89, "keep", "manual, 2 months old, kept 3 months"),
        ("manual", 95, "review", "manual, 3 months old, kept 3 months: review"),
        ("pre-migration", 179, "keep", "pre-migration, 5 months old, kept 6 months"),
        ("pre-migration", 190, "review", "pre-migration, 6 months old, kept 6 months: review"),
        ("critical", 359.5, "keep", "critical: kept forever, next review in 5 days"),
        ("critical", 900, "review", "critical: kept forever, review due (every 12 months)"),
    ],
)
def test_each_kind_just_under_and_just_over_its_boundary(
    installed: psycopg.Connection, table: str, kind: str, days: float, decision: str, reason: str
) -> None:
    name = _backup(installed, table, kind, days)
    _backup(installed, table, "manual", 0)  # a newer copy, so the newest-kept floor does not apply
    assert _plan(installed)[name] == (decision, reason)


def test_the_newest_backup_of_each_table_is_kept_whatever_its_age(installed: psycopg.Connection, table: str) -> None:
    older = _backup(installed, table, "daily", 30)
    newest = _backup(installed, table, "daily", 20)
    plan = _plan(installed)
    assert plan[older][0] == "delete"
    assert plan[newest] == ("keep", "newest backup of public.experts: always kept")


def test_the_floor_counts_only_backups_whose_table_exists(installed: psycopg.Connection, table: str) -> None:
    older = _backup(installed, table, "daily", 30)
    gone = _backup(installed, table, "daily", 1)
    installed.execute(sql.SQL("DROP TABLE backup.{}").format(sql.Identifier(gone)))
    plan = _plan(installed)
    assert plan[gone] == ("delete", "the table is gone: a stale metadata row, nothing to lose")
    assert plan[older][0] == "keep"  # now the newest copy that still exists


def test_same_source_name_in_another_schema_is_another_table(installed: psycopg.Connection, table: str) -> None:
    installed.execute("CREATE SCHEMA crm")
    make_table(installed, "experts", schema="crm")
    public_old = _backup(installed, table, "daily", 30)
    _backup(installed, table, "daily", 1)
    crm_only = create_backup(installed, "experts", "r", "daily", "crm")
    installed.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s",
        (crm_only,),
    )
    plan = _plan(installed)
    assert plan[public_old][0] == "delete"
    assert plan[crm_only] == ("keep", "newest backup of crm.experts: always kept")


def test_unregistered_tables_are_reviewed_and_dependants_block_deletion(
    installed: psycopg.Connection, table: str
) -> None:
    installed.execute("CREATE TABLE backup.experts_backup_20240101 AS SELECT 1 AS x")
    used = _backup(installed, table, "daily", 30)
    _backup(installed, table, "daily", 1)
    installed.execute(f'CREATE VIEW public.audit_view AS SELECT * FROM backup."{used}"')
    plan = _plan(installed)
    assert plan["experts_backup_20240101"][0] == "review"
    assert "not registered" in plan["experts_backup_20240101"][1]
    assert plan[used][0] == "review"
    assert "view public.audit_view depends on it" in plan[used][1]


def test_an_edited_policy_changes_the_plan(installed: psycopg.Connection, table: str) -> None:
    name = _backup(installed, table, "daily", 10)
    _backup(installed, table, "daily", 0)
    assert _plan(installed)[name][0] == "delete"
    installed.execute("UPDATE backup.retention_policy SET keep_for = '14 days' WHERE backup_kind = 'daily'")
    assert _plan(installed)[name] == ("keep", "daily, 10 days old, kept 2 weeks")
    installed.execute(
        "UPDATE backup.retention_policy SET keep_for = '1 day', action = 'archive' WHERE backup_kind = 'daily'"
    )
    assert _plan(installed)[name][0] == "archive"


def test_plan_as_of_another_day(installed: psycopg.Connection, table: str) -> None:
    name = _backup(installed, table, "daily", 3)
    _backup(installed, table, "daily", 0)
    assert _plan(installed)[name][0] == "keep"
    row = installed.execute(
        "SELECT decision FROM backup.plan_prune(now() + interval '10 days') WHERE backup_table_name = %s", (name,)
    ).fetchone()
    assert row == ("delete",)


def test_inventory_status_agrees_with_the_plan(installed: psycopg.Connection, table: str) -> None:
    for kind, days in [("daily", 30), ("weekly", 60), ("monthly", 400), ("manual", 100), ("critical", 900)]:
        _backup(installed, table, kind, days)
    _backup(installed, table, "manual", 0)
    words = {"delete": "expired"}
    plan = _plan(installed)
    inventory = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert {n: words.get(d, d) for n, (d, _) in plan.items()} == inventory


def test_mark_reviewed_pushes_the_next_review_out_and_is_audited(installed: psycopg.Connection, table: str) -> None:
    name = _backup(installed, table, "manual", 100)
    _backup(installed, table, "manual", 0)
    assert _plan(installed)[name][0] == "review"
    installed.execute("SELECT backup.mark_reviewed(%s, 'still needed for the audit')", (name,))
    decision, reason = _plan(installed)[name]
    assert decision == "keep" and "next review in" in reason
    assert installed.execute(
        "SELECT action, detail->>'note' FROM backup.backup_audit WHERE action = 'review'"
    ).fetchall() == [("review", "still needed for the audit")]
    later = installed.execute(
        "SELECT decision FROM backup.plan_prune(now() + interval '4 months') WHERE backup_table_name = %s", (name,)
    ).fetchone()
    assert later == ("review",)


def test_mark_reviewed_requires_a_note(installed: psycopg.Connection, table: str) -> None:
    name = _backup(installed, table, "manual", 100)
    with pytest.raises(psycopg.Error, match="a note is required"):
        installed.execute("SELECT backup.mark_reviewed(%s, '  ')", (name,))


def test_prune_batch_rechecks_each_name(installed: psycopg.Connection, table: str) -> None:
    due = _backup(installed, table, "daily", 30)
    young = _backup(installed, table, "daily", 1)
    results = installed.execute(
        "SELECT backup_table_name, freed_bytes > 0, error FROM backup.prune_batch(%s)", ([due, young, "nope"],)
    ).fetchall()
    assert results[0] == (due, True, None)
    assert results[1][0] == young and results[1][2].startswith("no longer due for deletion: keep")
    assert results[2] == ("nope", False, "no such backup any more (dropped meanwhile?)")


def test_apply_prune_dry_run_changes_nothing(installed: psycopg.Connection, table: str) -> None:
    _backup(installed, table, "daily", 30)
    _backup(installed, table, "daily", 1)
    installed.execute("CALL backup.apply_prune(dry_run => true)")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 2


def test_apply_prune_of_a_thousand_expired_backups_keeps_only_the_newest(installed: psycopg.Connection) -> None:
    make_table(installed, "hot", rows=1)
    with installed.transaction():
        installed.execute("SELECT backup.create_table_backup('hot', 'loop', 'daily') FROM generate_series(1, 1001)")
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' "
            "- (random() * interval '300 days')"
        )
    newest = scalar(installed, "SELECT backup_table_name FROM backup.backup_metadata ORDER BY backup_date DESC LIMIT 1")
    installed.execute("CALL backup.apply_prune(batch_size => 250)")
    assert installed.execute("SELECT backup_table_name FROM backup.backup_metadata").fetchall() == [(newest,)]
    assert scalar(installed, "SELECT count(*) FROM backup.backup_audit WHERE action = 'drop'") == 1000
    assert (
        scalar(
            installed,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'backup'::regnamespace "
            "AND relname LIKE 'hot_backup_%%'",
            (),
        )
        == 1
    )


def test_apply_prune_skips_a_locked_backup_and_reports_it(
    installed: psycopg.Connection, settings: Settings, table: str
) -> None:
    locked = _backup(installed, table, "daily", 30)
    free = _backup(installed, table, "daily", 20)
    _backup(installed, table, "daily", 1)
    holder = connect(settings)
    notices: list[str] = []
    installed.add_notice_handler(lambda d: notices.append(d.message_primary))
    try:
        holder.execute("BEGIN")
        holder.execute(f'SELECT count(*) FROM backup."{locked}"')
        installed.execute("SET lock_timeout = '100ms'")
        installed.execute("CALL backup.apply_prune()")
    finally:
        holder.close()
    remaining = {r[0] for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata")}
    assert locked in remaining and free not in remaining
    assert any(locked in n and "lock timeout" in n for n in notices)
    assert any(n.startswith("apply_prune: dropped 1") for n in notices)
