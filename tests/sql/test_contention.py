"""Contention and odd data (#13.2, .3, .4, .6): a lock held elsewhere, row-level security, creates
racing in one second, and a what-if date that must never delete anything."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.conftest import make_table, scalar
from tui.db import Settings
from tui.db.check import run_check
from tui.db.inventory import inventory_json, load_inventory
from tui.model import Category, SchemaState

STAMP = r"_backup_\d{4}_\d{2}_\d{2}_\d{6}"


def _daily(conn: psycopg.Connection, table: str, days_old: int) -> str:
    name = conn.execute("SELECT backup.create_table_backup(%s, 'old', 'daily')", (table,)).fetchone()[0]
    conn.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
        "WHERE backup_table_name = %s",
        (days_old, name),
    )
    return name


@pytest.fixture
def five_due(installed: psycopg.Connection) -> list[str]:
    """Five expired dailies of t and a newer copy (so none is the newest of its source)."""
    make_table(installed, "t", rows=50)
    due = [_daily(installed, "t", 20 + i) for i in range(5)]
    installed.execute("SELECT backup.create_table_backup('t', 'newest', 'daily')")
    return due


@pytest.fixture
def holder(dsn: str) -> Iterator[psycopg.Connection]:
    """Another session, in a transaction that holds whatever lock the test takes."""
    with psycopg.connect(dsn) as conn:
        yield conn
        conn.rollback()


def _lock(holder: psycopg.Connection, name: str) -> int:
    holder.execute(sql.SQL("LOCK TABLE backup.{} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(name)))
    return holder.info.backend_pid


# -- 2. one locked backup never stops the others, and nothing waits forever ------------------


@pytest.mark.parametrize("lock_timeout", ["0", "1s"])
def test_apply_prune_skips_a_locked_backup_drops_the_others_and_finishes(
    installed: psycopg.Connection, five_due: list[str], holder: psycopg.Connection, lock_timeout: str
) -> None:
    """pg_cron runs with lock_timeout 0 (wait for ever); a DBA's session may have any bound."""
    _lock(holder, five_due[2])
    notices: list[str] = []
    installed.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    installed.execute(f"SET lock_timeout = '{lock_timeout}'")
    installed.execute("SET statement_timeout = '60s'")  # the test's own guard: a hang fails, it never blocks CI
    installed.execute("CALL backup.apply_prune(batch_size => 2)")
    left = {r[0] for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata")}
    assert left & set(five_due) == {five_due[2]}
    assert any(n.startswith(f"skipped {five_due[2]}: lock timeout") for n in notices), notices
    assert any(n.startswith("apply_prune: dropped 4") and "skipped 1" in n for n in notices), notices
    assert (
        scalar(
            installed,
            "SELECT count(*) FROM backup.backup_audit WHERE action = 'prune-skip' AND backup_table_name = %s",
            (five_due[2],),
        )
        == 1
    )


def test_list_check_and_plan_work_while_a_backup_is_locked(
    installed: psycopg.Connection, five_due: list[str], holder: psycopg.Connection
) -> None:
    pid = _lock(holder, five_due[0])
    installed.execute("SET lock_timeout = '1s'")
    rows = {b.backup_table_name: b for b in load_inventory(installed, SchemaState.CURRENT)}
    locked = rows[five_due[0]]
    assert locked.locked_by == pid and not locked.size_exact and locked.size_bytes is not None
    assert all(b.size_exact for name, b in rows.items() if name != five_due[0])
    assert '"locked_by"' in inventory_json(installed, SchemaState.CURRENT)()
    assert scalar(installed, "SELECT count(*) FROM backup.plan_prune()") == 6
    findings = run_check(installed, SchemaState.CURRENT, fast=False)()
    assert [f for f in findings if f.category is Category.DRIFT] == []  # the locked one is estimated, not counted


# -- 3. row-level security never yields a silent partial copy --------------------------------


@pytest.fixture
def rls_table(installed: psycopg.Connection) -> Iterator[str]:
    """public.secrets: 30 rows, a policy that shows bt_reader only 10; bt_reader may back it up."""
    installed.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bt_reader') "
        "THEN CREATE ROLE bt_reader LOGIN; END IF; END $$"
    )
    installed.execute(
        "CREATE TABLE public.secrets AS SELECT g AS id, mod(g, 3) = 0 AS mine FROM generate_series(1, 30) g"
    )
    installed.execute("ALTER TABLE public.secrets ENABLE ROW LEVEL SECURITY")
    installed.execute("CREATE POLICY only_mine ON public.secrets FOR SELECT TO bt_reader USING (mine)")
    installed.execute("GRANT SELECT ON public.secrets TO bt_reader")
    for statement in installed.execute("SELECT backup.role_grants('bt_reader', 'operator')").fetchall():
        installed.execute(statement[0])
    yield "secrets"
    installed.execute("DROP OWNED BY bt_reader")


def test_a_role_under_a_policy_gets_an_error_not_a_partial_copy(
    installed: psycopg.Connection, rls_table: str, dsn: str
) -> None:
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(dsn, user="bt_reader"), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM public.secrets").fetchone()[0] == 10  # what the policy shows
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security") as err:
            reader.execute("SELECT backup.create_table_backup('secrets', 'partial?', 'manual')")
        assert "BYPASSRLS" in (err.value.diag.message_hint or "")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert (
        scalar(
            installed,
            "SELECT count(*) FROM pg_class "
            "WHERE relnamespace = 'backup'::regnamespace AND starts_with(relname, 'secrets')",
        )
        == 0
    )


def test_the_owner_under_force_row_level_security_is_refused_too(installed: psycopg.Connection, rls_table: str) -> None:
    installed.execute("CREATE ROLE bt_owner_rls NOLOGIN")
    try:
        installed.execute("ALTER TABLE public.secrets OWNER TO bt_owner_rls")
        installed.execute("ALTER TABLE public.secrets FORCE ROW LEVEL SECURITY")
        installed.execute("GRANT CREATE, USAGE ON SCHEMA backup TO bt_owner_rls")
        installed.execute("GRANT SELECT, INSERT ON backup.backup_metadata, backup.backup_audit TO bt_owner_rls")
        installed.execute("GRANT SELECT ON backup.retention_policy TO bt_owner_rls")
        installed.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA backup TO bt_owner_rls")
        installed.execute("SET ROLE bt_owner_rls")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            installed.execute("SELECT backup.create_table_backup('secrets', 'forced', 'manual')")
    finally:
        installed.execute("RESET ROLE")
        installed.execute("ALTER TABLE public.secrets OWNER TO CURRENT_USER")
        installed.execute("DROP OWNED BY bt_owner_rls")
        installed.execute("DROP ROLE bt_owner_rls")


def test_a_full_copy_of_an_rls_table_keeps_row_level_security_on(installed: psycopg.Connection, rls_table: str) -> None:
    name = scalar(installed, "SELECT backup.create_table_backup('secrets', 'as superuser', 'manual')")
    assert scalar(installed, f'SELECT count(*) FROM backup."{name}"') == 30  # every row
    assert scalar(installed, "SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass", (f'backup."{name}"',))
    assert scalar(installed, "SELECT count(*) FROM pg_policy WHERE polrelid = %s::regclass", (f'backup."{name}"',)) == 0


# -- 4. same-second creates never collide ----------------------------------------------------


def test_twenty_concurrent_creates_of_one_table_in_one_second_all_succeed(
    installed: psycopg.Connection, dsn: str
) -> None:
    make_table(installed, "hot", rows=2000)
    count = 20
    barrier = threading.Barrier(count)
    names: list[str] = []
    errors: list[str] = []
    stamps: list[str] = []

    def one() -> None:
        try:
            with psycopg.connect(dsn) as conn:  # one transaction each: now() is its start
                barrier.wait()
                stamps.append(conn.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'HH24MISS')").fetchone()[0])
                names.append(conn.execute("SELECT backup.create_table_backup('hot', 'race', 'manual')").fetchone()[0])
        except psycopg.Error as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(names)) == count
    assert all(re.fullmatch("hot" + STAMP + r"(_\d+)?", n) for n in names)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == count
    # The point of the test: most of them shared one second (a barrier, then one round trip).
    assert max(stamps.count(s) for s in set(stamps)) >= count // 2


# -- 6. a what-if date never deletes anything ------------------------------------------------


def test_apply_prune_refuses_a_what_if_date(installed: psycopg.Connection, five_due: list[str]) -> None:
    young = scalar(installed, "SELECT backup.create_table_backup('t', 'minutes old', 'daily')")
    installed.execute("SET backup.as_of = '2030-01-01'")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="real current time"):
        installed.execute("CALL backup.apply_prune()")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 7
    # prune_batch (what the TUI and CLI call) plans at the real now(): the young one is kept.
    rows = installed.execute("SELECT backup_table_name, error FROM backup.prune_batch(%s)", ([young],)).fetchall()
    assert rows[0][1].startswith("no longer due for deletion: keep")
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (young,)) == 1


def test_a_what_if_date_leaked_through_pgoptions_is_ignored_by_our_sessions(
    installed: psycopg.Connection, five_due: list[str], dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.db import Database

    young = scalar(installed, "SELECT backup.create_table_backup('t', 'minutes old', 'daily')")
    monkeypatch.setenv("PGOPTIONS", "-c backup.as_of=2030-01-01")
    with Database(Settings(dsn=dsn)) as database:
        plan = {r.backup_table_name: r.decision for r in database.plan()}
        result = database.apply_prune([n for n, d in plan.items() if d == "delete"])
    assert plan[young] == "keep"
    assert {i.name for i in result.done} == set(five_due)
