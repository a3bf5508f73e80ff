"""Sample data for the demo (and the tests' fixtures): live tables and a history of backups.

Backups are made through backup.create_table_backup like any other, then given the name and
date they would have had if taken back then (`backdate`), so the history looks real.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

from tui.db.backups import create_backup
from tui.db.schema import install

# (table, rows, extra payload bytes per row): a dozen tables of different shapes and sizes.
LIVE_TABLES: list[tuple[str, int, int]] = [
    ("customers", 20_000, 120),
    ("orders", 60_000, 60),
    ("order_items", 90_000, 30),
    ("products", 2_000, 400),
    ("invoices", 30_000, 80),
    ("payments", 30_000, 40),
    ("experts", 500, 600),
    ("sessions", 40_000, 20),
    ("audit_log", 50_000, 150),
    ("UserPreferences", 8_000, 60),
    ("feature_flags", 40, 50),
    ("shipments", 25_000, 50),
]

_REASONS = {
    "pre-migration": ["Pre-migration backup", "before 2025_06 schema split", "before adding NOT NULL to email"],
    "critical": ["legal hold: audit 2025", "GDPR export baseline"],
    "manual": ["before bulk price update", "support ticket #4411", "checking a data fix", "before dedupe job"],
}


def _plan(rng: random.Random) -> list[tuple[str, str, int, str]]:
    """(kind, table, age in days, reason): a day to 18 months, around every policy boundary."""
    names = [t for t, _, _ in LIVE_TABLES]
    plan = []
    for day in (1, 2, 3, 5, 6, 8, 9, 12, 15):
        plan.append(("daily", rng.choice(["orders", "payments", "sessions"]), day, "nightly copy"))
    for week in (1, 2, 3, 5, 6, 8):
        plan.append(("weekly", rng.choice(["customers", "invoices"]), week * 7, "weekly copy"))
    for month in range(1, 19, 2):
        plan.append(("monthly", rng.choice(["invoices", "audit_log"]), month * 30 + 1, "month-end close"))
    for age in (20, 95, 200, 400, 540):
        plan.append(("pre-migration", rng.choice(names), age, rng.choice(_REASONS["pre-migration"])))
    for age in (30, 380):
        plan.append(("critical", rng.choice(["customers", "experts"]), age, rng.choice(_REASONS["critical"])))
    while len(plan) < 58:
        age = rng.choice([1, 4, 10, 25, 45, 80, 89, 92, 120, 180, 300])
        plan.append(("manual", rng.choice(names), age, rng.choice(_REASONS["manual"])))
    return plan


def create_live_table(conn: psycopg.Connection, table: str, rows: int, payload: int = 32) -> None:
    """public.<table> with `rows` rows of a few types and about `payload` extra bytes each."""
    with conn.transaction():
        conn.execute(
            sql.SQL(
                "CREATE TABLE public.{t} (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, "
                "name text NOT NULL, amount numeric(12,2), payload text)"
            ).format(t=sql.Identifier(table))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO public.{t} SELECT g, now() - g * interval '1 minute', 'item ' || g, "
                "(g %% 1000) / 7.0, repeat(md5(g::text), %s) FROM generate_series(1, %s) g"
            ).format(t=sql.Identifier(table)),
            (max(1, payload // 32), rows),
        )


def backdate(conn: psycopg.Connection, name: str, new_name: str, when: datetime) -> None:
    """Give a fresh backup another name and the date it would have had if taken `when`."""
    with conn.transaction():
        conn.execute(
            sql.SQL("ALTER TABLE backup.{} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(new_name))
        )
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_table_name = %s, backup_date = %s, created_at = %s "
            "WHERE backup_table_name = %s",
            (new_name, when, when, name),
        )
        conn.execute(
            "UPDATE backup.backup_audit SET backup_table_name = %s, at = %s WHERE backup_table_name = %s",
            (new_name, when, name),
        )


def stamped_name(table: str, when: datetime) -> str:
    """The name create_table_backup gives a backup of `table` taken at `when`."""
    return f"{table}_backup_{when.astimezone(timezone.utc):%Y_%m_%d_%H%M%S}"


def drop_table_behind_metadata(conn: psycopg.Connection, name: str) -> None:
    """What a DBA does by hand with DROP TABLE: the metadata row stays (a `missing` backup)."""
    conn.execute(sql.SQL("DROP TABLE backup.{}").format(sql.Identifier(name)))


def seed_demo(conn: psycopg.Connection, *, now: datetime | None = None, seed_value: int = 2025) -> None:
    """Fill an empty database with live tables and ~60 backups (one missing, one unregistered)."""
    rng = random.Random(seed_value)
    now = now or datetime.now(timezone.utc)
    install(conn)
    for table, rows, payload in LIVE_TABLES:
        create_live_table(conn, table, rows, payload)
    for kind, table, age_days, reason in _plan(rng):
        name = create_backup(conn, table, reason, kind)
        when = now - timedelta(days=age_days, minutes=rng.randrange(1440))
        backdate(conn, name, stamped_name(table, when), when)
    # A metadata row whose table someone dropped by hand, and a table nobody registered.
    missing = create_backup(conn, "shipments", "before carrier migration", "manual")
    drop_table_behind_metadata(conn, missing)
    conn.execute("CREATE TABLE backup.orders_backup_20250301 AS SELECT * FROM public.orders WHERE id <= 5000")
    seed_schedules(conn)
    conn.execute("ANALYZE")


def seed_schedules(conn: psycopg.Connection) -> None:
    """Two schedules, so the schedules screen is never empty: a healthy nightly one that ran, and
    one whose table was dropped after it was scheduled (its last run failed: `check` says so)."""
    healthy = conn.execute(
        "SELECT backup.add_schedule('orders'::text, 'daily'::text, '0 2 * * *'::text, NULL::text, 'public'::text)"
    ).fetchone()[0]  # type: ignore[index]
    conn.execute("SELECT * FROM backup.run_schedule(%s::bigint, pg_catalog.now(), false)", (healthy,))
    create_live_table(conn, "legacy_events", 100)
    failing = conn.execute(
        "SELECT backup.add_schedule('legacy_events'::text, 'weekly'::text, '30 3 * * 0'::text, "
        "'weekly {table} before its retirement'::text, 'public'::text)"
    ).fetchone()[0]  # type: ignore[index]
    conn.execute("DROP TABLE public.legacy_events")
    conn.execute("SELECT * FROM backup.run_schedule(%s::bigint, pg_catalog.now(), false)", (failing,))
