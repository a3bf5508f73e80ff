"""Deterministic backups for UI tests: fixed names, sizes and dates, and a frozen "now"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

from tui.db import Settings
from tui.db.backups import create_backup
from tui.db.sample import backdate, drop_table_behind_metadata
from tui.db.schema import install

FROZEN_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)

# (source table, rows, kind, age in days, reason, final name)
BACKUPS: list[tuple[str, int, str, float, str, str]] = [
    ("orders", 20_000, "daily", 2, "nightly copy", "orders_backup_2026_05_30_120000"),
    ("orders", 20_000, "daily", 12, "nightly copy", "orders_backup_2026_05_20_120000"),
    ("customers", 5_000, "weekly", 40, "weekly copy", "customers_backup_2026_04_22_120000"),
    ("invoices", 8_000, "monthly", 400, "month-end close", "invoices_backup_2025_04_27_120000"),
    ("experts", 300, "critical", 30, "legal hold", "experts_backup_2026_05_02_120000"),
    ("Mixed Case", 50, "manual", 100, "before dedupe, with a long reason that will not fit", "Mixed Case_backup_x"),
    ("users", 1_000, "pre-migration", 10, "Pre-migration backup", "users_backup_2026_05_22_120000"),
    ("experts", 300, "manual", 120, "checking a data fix", "experts_backup_2026_02_01_120000"),
]


# Every backup in the inventory: those above, one missing and one unregistered.
TOTAL = len(BACKUPS) + 2


def seed_ui_fixture(conn: psycopg.Connection, now: datetime = FROZEN_NOW) -> None:
    """Install, create the live tables and the backups above (ages counted back from `now`), then
    one missing and one unregistered."""
    install(conn)
    for table in sorted({b[0] for b in BACKUPS}):
        rows = max(b[1] for b in BACKUPS if b[0] == table)
        conn.execute(
            sql.SQL("CREATE TABLE {} AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, %s) g").format(
                sql.Identifier(table)
            ),
            (rows,),
        )
    for table, _, kind, age, reason, final in BACKUPS:
        name = create_backup(conn, table, reason, kind)
        backdate(conn, name, final, now - timedelta(days=age))
    gone = create_backup(conn, "users", "before carrier migration", "manual")
    with conn.transaction():
        drop_table_behind_metadata(conn, gone)
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_table_name = 'users_backup_2026_01_01_000000', "
            "backup_date = %s, created_by = 'postgres' WHERE backup_table_name = %s",
            (now - timedelta(days=151), gone),
        )
    conn.execute("CREATE TABLE backup.orders_backup_20260101 AS SELECT * FROM public.orders WHERE id <= 100")
    conn.execute("UPDATE backup.backup_metadata SET created_by = 'postgres', id = md5(backup_table_name)::uuid")
    # Statistics now, not whenever autovacuum gets to it: the create form shows them. VACUUM too:
    # PostgreSQL 16+ extends a CREATE TABLE AS in bulk and a vacuum truncates the unused tail, so
    # without it the sizes on screen shrink whenever autovacuum passes (a snapshot once caught it).
    conn.execute("VACUUM ANALYZE")


def frozen_settings(dsn: str, **kw: object) -> Settings:
    """Settings whose retention decisions are as of FROZEN_NOW (a what-if: screens are stable, and
    nothing can be pruned under it); as_of=None for a session at the real current time."""
    options: dict[str, object] = {"lock_timeout": "1s", "as_of": FROZEN_NOW.isoformat(), **kw}
    return Settings(dsn=dsn, **options)  # type: ignore[arg-type]


def seed_schedules_fixture(conn: psycopg.Connection, now: datetime = FROZEN_NOW) -> tuple[int, int]:
    """Two schedules on the UI fixture, their last runs pinned: orders every night at 02:00 (ran
    fine at 02:00 on `now`'s day) and a weekly one whose table is gone (its last run failed)."""
    healthy = conn.execute("SELECT backup.add_schedule('orders', 'daily', '0 2 * * *')").fetchone()[0]  # type: ignore[index]
    conn.execute("CREATE TABLE public.legacy_events (id int)")
    failing = conn.execute(
        "SELECT backup.add_schedule('legacy_events', 'weekly', '30 3 * * 0', 'weekly {table} before retirement')"
    ).fetchone()[0]  # type: ignore[index]
    conn.execute("DROP TABLE public.legacy_events")
    ran = now.replace(hour=2, minute=0)
    conn.execute(
        "UPDATE backup.backup_schedule SET created_at = %s - interval '30 days', last_run_at = %s, "
        "last_attempt_at = %s + interval '3 seconds', last_result = 'ok', "
        "last_backup = 'orders_backup_2026_05_30_120000' WHERE id = %s",
        (now, ran, ran, healthy),
    )
    conn.execute(
        "UPDATE backup.backup_schedule SET created_at = %s - interval '30 days', last_run_at = %s, "
        "last_attempt_at = %s, last_result = 'failed', "
        "last_error = 'table public.legacy_events does not exist' WHERE id = %s",
        (now, now - timedelta(days=4), now - timedelta(days=4), failing),
    )
    return healthy, failing
