"""No caller's search_path can run code inside our calls (#13.1).

The attacker plants look-alikes of every built-in our SQL and our Python use (tests/attacks.py)
in public, and the caller puts public first. Every function and procedure of the SQL API is
called; the planted code must never run.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.attacks import HOSTILE_PATH, hits, plant
from tests.conftest import make_table


@pytest.fixture
def planted(installed: psycopg.Connection, dsn: str) -> psycopg.Connection:
    make_table(installed, "t", rows=20)
    for days in (40, 30, 20):  # old dailies: the plan deletes two of them
        name = installed.execute("SELECT backup.create_table_backup('t', 'old', 'daily')").fetchone()[0]
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    installed.execute("CREATE TABLE backup.t_backup_20250101 AS TABLE public.t")  # unregistered
    installed.execute(  # an archived backup (its table gone, its row kept with the location)
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, archive_location, archived_at) "
        "VALUES ('t', 't_backup_2025_01_01_archived', '/cold/t', now())"
    )
    assert plant(installed, dsn) > 300
    installed.execute(f"SET search_path = {HOSTILE_PATH}")
    return installed


def _backups(dsn: str, kind: str = "daily") -> list[str]:
    """The test's own look-ups, on a session whose path is pg_catalog only (not the victim's)."""
    with psycopg.connect(dsn, options="-c search_path=pg_catalog") as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT backup_table_name FROM backup.backup_metadata WHERE backup_kind = %s ORDER BY backup_date",
                (kind,),
            )
        ]


# Every function and procedure of schema backup and our public wrappers, called the way a DBA,
# pg_cron or supabase-js would. A test below fails when a new function is not in this list.
CALLS: dict[str, str] = {
    "backup.internal_tables()": "SELECT backup.internal_tables()",
    "backup.refuse_internal(text)": "SELECT backup.refuse_internal('t_backup_x')",
    "backup.as_of()": "SELECT backup.as_of()",
    "backup.truncate_bytes(text,integer)": "SELECT backup.truncate_bytes('ééé', 3)",
    "backup.parse_backup_name(text)": "SELECT * FROM backup.parse_backup_name('t_backup_2025_01_02_030405_2')",
    "backup.interval_words(interval)": "SELECT backup.interval_words('4 weeks')",
    "backup.age_words(interval)": "SELECT backup.age_words('400 days')",
    "backup.ages_words(interval[])": "SELECT backup.ages_words(ARRAY['400 days', NULL, '3 hours']::interval[])",
    "backup.dependants(oid[])": (
        "SELECT * FROM backup.dependants(ARRAY['backup.backup_metadata'::pg_catalog.regclass::pg_catalog.oid])"
    ),
    "backup.plan_rows(timestamp with time zone,text[])": "SELECT count(*) FROM backup.plan_rows()",
    "backup.plan_prune(timestamp with time zone,text[])": "SELECT count(*) FROM backup.plan_prune()",
    "backup.inventory_rows(text[])": "SELECT count(*) FROM backup.inventory_rows()",
    "backup.named_entries(text[])": "SELECT count(*) FROM backup.named_entries(ARRAY['{weekly}', 'nothing'])",
    "backup.biggest_backups(integer)": "SELECT backup.biggest_backups(5)",
    "backup.create_table_backup(text,text,text,text)": (
        "SELECT backup.create_table_backup('t', 'why', 'weekly', 'public')"
    ),
    "backup.create_table_backup(text,text)": "SELECT backup.create_table_backup('t', 'Pre-migration backup')",
    "backup.claim_backup(text,text)": "SELECT backup.claim_backup('no_such_backup', 'drop')",
    "backup.drop_table_backup(text)": "SELECT backup.drop_table_backup('{weekly}')",
    "backup.drop_table_backups(text[])": "SELECT * FROM backup.drop_table_backups(ARRAY['{daily2}', 'no_such'])",
    "backup.prune_batch(text[])": "SELECT * FROM backup.prune_batch(ARRAY['{daily0}'])",
    "backup.apply_prune(integer,boolean)": "CALL backup.apply_prune()",
    "backup.mark_reviewed(text,text)": "SELECT backup.mark_reviewed('{daily2}', 'checked')",
    "backup.adopt_backup(text,text,text,text,text)": "SELECT * FROM backup.adopt_backup('t_backup_20250101')",
    "backup.archive_table_backup(text,text,jsonb)": (
        "SELECT backup.archive_table_backup('{premigration}', '/cold/x', '{{}}')"
    ),
    "backup.what_if()": "SELECT backup.what_if()",
    "backup.locked_relations()": "SELECT count(*) FROM backup.locked_relations()",
    "backup.hold_backup(text,text,timestamp with time zone)": (
        "SELECT backup.hold_backup('{daily0}', 'kept', NULL::pg_catalog.timestamptz)"
    ),
    "backup.release_hold(text)": "SELECT backup.release_hold('{daily0}')",
    "backup.hold_words(timestamp with time zone,text,text,timestamp with time zone,timestamp with time zone)": (
        "SELECT backup.hold_words(pg_catalog.now(), 'me', 'why', NULL::pg_catalog.timestamptz, pg_catalog.now())"
    ),
    "backup.find_redundant()": "SELECT count(*) FROM backup.find_redundant()",
    "backup.fingerprint_of(oid)": (
        "SELECT backup.fingerprint_of('backup.backup_metadata'::pg_catalog.regclass::pg_catalog.oid)"
    ),
    "backup.lock_backup(text,text)": "SELECT backup.lock_backup('no_such_backup', 'ACCESS EXCLUSIVE')",
    "backup.lock_holder(oid)": (
        "SELECT backup.lock_holder('backup.backup_metadata'::pg_catalog.regclass::pg_catalog.oid)"
    ),
    "backup.routine_levels()": "SELECT count(*) FROM backup.routine_levels()",
    "backup.prune_lock_wait()": "SELECT backup.prune_lock_wait()",
    "backup.prune_start(integer,boolean)": "SELECT backup.prune_start(10, true)",
    "backup.prune_step(backup.prune_run)": "SELECT backup.prune_step(backup.prune_start(10, false))",
    "backup.prune_finish(backup.prune_run)": "SELECT backup.prune_finish(backup.prune_start(10, true))",
    "backup.hold_for_archive(text)": "SELECT backup.hold_for_archive('{premigration}')",
    "backup.role_grants(text,text)": "SELECT * FROM backup.role_grants('bt_attacker', 'operator')",
    "backup.revoke_exposure(text[])": "SELECT * FROM backup.revoke_exposure()",
    "backup.grant_role(text,text)": "SELECT * FROM backup.grant_role('bt_attacker', 'reviewer')",
    "backup.finish_restore(regclass,text,text,boolean)": "SELECT backup.finish_restore('public.t', 'x', NULL, false)",
    "backup.record_verification(text,text,text)": "SELECT backup.record_verification('{archived}', 'ok', 'fine')",
    "backup.forget_archive(text)": "SELECT backup.forget_archive('{archived}')",
    "backup.adopt_archive(text,jsonb)": (
        "SELECT backup.adopt_archive('/cold/again', "
        '\'{{"backup_table_name": "t_again", "sha256": "' + "a" * 64 + '", "row_count": 1}}\')'
    ),
    "backup.cron_field(text,integer,integer,text[],text)": "SELECT backup.cron_field('*/5', 0, 59, '{{}}', 'minute')",
    "backup.cron_value(text,text[],integer,text)": "SELECT backup.cron_value('MON', '{{SUN,MON}}', 0, 'day')",
    "backup.cron_parse(text)": "SELECT backup.cron_parse('0 2 * * mon-fri')",
    "backup.cron_valid(text)": "SELECT backup.cron_valid('@daily')",
    "backup.cron_day_matches(backup.cron_spec,date)": (
        "SELECT backup.cron_day_matches(backup.cron_parse('0 2 1 * 1'), '2026-06-01')"
    ),
    "backup.cron_prev(text,timestamp with time zone)": "SELECT backup.cron_prev('0 2 * * *', pg_catalog.now())",
    "backup.cron_next(text,timestamp with time zone,integer)": (
        "SELECT * FROM backup.cron_next('0 2 * * *', pg_catalog.now(), 3)"
    ),
    "backup.cron_words(text)": "SELECT backup.cron_words('30 3 * * 0')",
    "backup.cron_never(text)": "SELECT backup.cron_never('0 0 30 2 *')",
    "backup.schedule_check()": (
        "INSERT INTO backup.backup_schedule (source_table, backup_kind, cron) VALUES ('t', 'weekly', '0 4 * * *')"
    ),
    "backup.schedule_lock_wait()": "SELECT backup.schedule_lock_wait()",
    "backup.add_schedule(text,text,text,text,text)": "SELECT backup.add_schedule('t', 'daily', '* * * * *')",
    "backup.due_schedules(timestamp with time zone)": ("SELECT * FROM backup.due_schedules('2100-01-01')"),
    "backup.run_schedule(bigint,timestamp with time zone,boolean)": (
        "SELECT * FROM backup.run_schedule((SELECT pg_catalog.min(id) FROM backup.backup_schedule))"
    ),
    "backup.run_due_backups(timestamp with time zone)": "CALL backup.run_due_backups('2100-01-01')",
    "backup.schedule_rows(timestamp with time zone)": "SELECT * FROM backup.schedule_rows()",
    "backup.update_schedule(bigint,text,text,text,boolean)": (
        "SELECT backup.update_schedule((SELECT pg_catalog.min(id) FROM backup.backup_schedule), enabled => false)"
    ),
    "backup.remove_schedule(bigint)": (
        "SELECT backup.remove_schedule((SELECT pg_catalog.max(id) FROM backup.backup_schedule))"
    ),
    "backup.caller()": "SELECT backup.caller()",
    "backup.valid_date(timestamp with time zone)": "SELECT backup.valid_date('infinity')",
    "backup.owner_role()": "SELECT backup.owner_role()",
    "backup.not_ours(oid)": "SELECT backup.not_ours('backup.backup_metadata'::pg_catalog.regclass::pg_catalog.oid)",
    "backup.may_copy(text,oid)": (
        "SELECT backup.may_copy('bt_attacker', 'public.t'::pg_catalog.regclass::pg_catalog.oid)"
    ),
    "backup.untrusted_type(oid,text[])": (
        "SELECT backup.untrusted_type('text[]'::pg_catalog.regtype::pg_catalog.oid, ARRAY['nobody'])"
    ),
    "backup.analyze_safe(oid)": "SELECT backup.analyze_safe('int4range'::pg_catalog.regtype::pg_catalog.oid)",
    "backup.created_here(oid)": "SELECT backup.created_here('public.t'::pg_catalog.regclass::pg_catalog.oid)",
    "backup.make_backup(text,text,text,text,text,bigint)": (
        "SELECT backup.make_backup('t', 'direct', 'manual', 'public', pg_catalog.current_user, NULL)"
    ),
    "backup.record_restore(regclass,text,text,boolean)": "SELECT backup.record_restore('public.t', 'x', NULL, false)",
    "backup.share_backups(text)": "SELECT backup.share_backups('bt_attacker')",
    "backup.restorable_types(text[],text[])": (
        "SELECT * FROM backup.restorable_types(ARRAY['int4', 'text[]', 'numeric(10,2)'], ARRAY['postgres'])"
    ),
    "backup.enforce_privileges(boolean)": "SELECT * FROM backup.enforce_privileges(true)",
    "public.get_backup_tables()": "SELECT count(*) FROM public.get_backup_tables()",
}
VIEWS = ["backup.backup_inventory", "backup.backup_entries", "public.backup_inventory_view"]


def test_every_function_of_ours_is_called_here(installed: psycopg.Connection) -> None:
    ours = {
        r[0]
        for r in installed.execute(
            "SELECT format('%s.%s(%s)', n.nspname, p.proname, replace(oidvectortypes(p.proargtypes), ', ', ',')) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'backup' OR p.oid = 'public.get_backup_tables()'::regprocedure"
        )
    }
    assert ours == set(CALLS)


def test_planted_code_never_runs_inside_any_sql_api_call(planted: psycopg.Connection, dsn: str) -> None:
    conn = planted
    failures = []
    for signature, call in CALLS.items():
        daily = _backups(dsn)
        names = {
            "daily0": daily[0] if daily else "",
            "daily2": daily[-1] if daily else "",
            "weekly": (_backups(dsn, "weekly") or [""])[0],
            "premigration": (_backups(dsn, "pre-migration") or [""])[0],
            "archived": "t_backup_2025_01_01_archived",
        }
        try:
            conn.execute(call.format(**names)).fetchall() if not call.startswith("CALL") else conn.execute(call)
        except psycopg.Error as exc:
            if "planted" in str(exc):
                failures.append(f"{signature}: {str(exc).splitlines()[0]}")
    for view in VIEWS:
        try:
            conn.execute(f"SELECT count(*) FROM {view}").fetchone()
        except psycopg.Error as exc:
            failures.append(f"{view}: {str(exc).splitlines()[0]}")
    assert failures == [], "\n".join(failures)
    assert hits(conn) == 0
