"""Our jobs under a real pg_cron: installed by `schedule cron --install`, run by pg_cron at the next
minute, their runs shown by `schedule list` and failures reported by `check`."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from tests.cron.conftest import CRON_DB, CronCluster
from tui.cli import main
from tui.db.schema import install


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _wait_for(conn: psycopg.Connection, query: str, what: str, timeout: float = 150) -> tuple:
    """Poll until `query` returns a row (pg_cron fires on minute boundaries: up to a minute away)."""
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(query).fetchone()
        if row is not None:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"pg_cron did not {what} within {timeout:.0f} s")
        time.sleep(0.5)


def test_a_schedule_is_made_by_pg_cron_within_a_minute(capsys, cron_cluster: CronCluster) -> None:
    dsn = cron_cluster.dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        install(conn)
        conn.execute("CREATE TABLE public.orders AS SELECT g AS id FROM generate_series(1, 1000) g")
    assert run(capsys, "schedule", "add", "orders", "--kind", "daily", "--cron", "* * * * *", "--dsn", dsn)[0] == 0
    code, out, _ = run(capsys, "schedule", "cron", "--install", "--prune-at", "03:15", "--dsn", dsn)
    assert code == 0 and "run due backups" in out
    assert run(capsys, "schedule", "cron", "--install", "--prune-at", "03:15", "--dsn", dsn)[0] == 0  # again
    with psycopg.connect(dsn, autocommit=True) as conn:
        jobs = conn.execute("SELECT jobname, schedule, command FROM cron.job ORDER BY jobname").fetchall()
        assert jobs == [
            (f"backup-tui: nightly prune in {CRON_DB}", "15 3 * * *", "CALL backup.apply_prune()"),
            (f"backup-tui: run due backups in {CRON_DB}", "* * * * *", "CALL backup.run_due_backups()"),
        ]  # stable names: installing twice changed nothing
        name = _wait_for(
            conn,
            "SELECT backup_table_name FROM backup.backup_metadata WHERE schedule_id IS NOT NULL",
            "make the scheduled backup",
        )[0]
        assert name.startswith("orders_backup_")
        assert conn.execute(f'SELECT count(*) FROM backup."{name}"').fetchone()[0] == 1000
        _wait_for(
            conn,
            "SELECT 1 FROM cron.job_run_details WHERE command = 'CALL backup.run_due_backups()' "
            "AND status = 'succeeded'",
            "record the job's run",
        )
    code, out, _ = run(capsys, "schedule", "list", "--dsn", dsn)
    assert code == 0 and "succeeded" in out and "run due backups" in out
    listed = json.loads(run(capsys, "schedule", "list", "--json", "--dsn", dsn)[1])
    assert listed["pg_cron"]["here"] and {j["last_status"] for j in listed["jobs"]} >= {"succeeded"}

    # A run that failed in the last day is a finding of `check`.
    with psycopg.connect(dsn, autocommit=True) as conn:
        jobid = conn.execute("SELECT jobid FROM cron.job WHERE command = 'CALL backup.apply_prune()'").fetchone()[0]
        conn.execute(
            "INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username, command, status, "
            "return_message, start_time, end_time) VALUES (%s, 999999, 1, %s, 'postgres', "
            "'CALL backup.apply_prune()', 'failed', 'ERROR:  canceling statement due to lock timeout', "
            "now() - interval '2 hours', now() - interval '2 hours')",
            (jobid, CRON_DB),
        )
    code, out, _ = run(capsys, "check", "--dsn", dsn)
    assert code == 1 and "nightly prune" in out and "lock timeout" in out

    code, out, _ = run(capsys, "schedule", "cron", "--remove", "--dsn", dsn)
    assert code == 0 and "nightly prune" in out
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cron.job").fetchone()[0] == 0


def test_pg_cron_in_another_database_gets_the_schedule_in_database_form(capsys, cron_cluster: CronCluster) -> None:
    with psycopg.connect(cron_cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS app WITH (FORCE)")
        conn.execute("CREATE DATABASE app")
    dsn = cron_cluster.dsn("app")
    with psycopg.connect(dsn, autocommit=True) as conn:
        install(conn)
    code, out, _ = run(capsys, "schedule", "cron", "--install", "--dsn", dsn)
    assert code == 1 and f"pg_cron lives in database '{CRON_DB}'" in out
    statements = [line.strip() for line in out.splitlines() if line.strip().startswith("SELECT cron.")]
    assert len(statements) == 2 and all("schedule_in_database" in s and "'app'" in s for s in statements)
    with psycopg.connect(cron_cluster.dsn(), autocommit=True) as cron:  # what the DBA runs there
        for statement in statements:
            cron.execute(statement)
        databases = {r[0] for r in cron.execute("SELECT database FROM cron.job WHERE jobname LIKE '%% in app'")}
        assert databases == {"app"}
        cron.execute("SELECT cron.unschedule(jobname) FROM cron.job WHERE jobname LIKE '%% in app'")
    code, out, _ = run(capsys, "schedule", "list", "--dsn", dsn)
    assert f"pg_cron lives in database '{CRON_DB}'" in out
