"""With pg_cron preloaded, operators and reviewers use every command and screen (#22.8). In 0.2
`check`, `schedule list`, `fleet` and the `S` screen failed for them: reading cron.database_name
needs superuser or pg_read_all_settings. And a schedule runs with its author's rights under
pg_cron's superuser job too."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.cron.conftest import CronCluster
from tests.cron.test_pg_cron import run
from tui.db.schema import install


@pytest.fixture
def team(cron_cluster: CronCluster):
    """A fresh database on the pg_cron cluster (pg_cron lives in another one), and one in which it lives."""
    suffix = uuid.uuid4().hex[:8]
    dbname = f"bt_roles_{suffix}"
    names = {"operator": f"bt_op_{suffix}", "reviewer": f"bt_rev_{suffix}"}
    with psycopg.connect(cron_cluster.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        for role in names.values():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    dsns = {"dba": cron_cluster.dsn(dbname), "cron_db": cron_cluster.dsn()}
    for where in ("dba", "cron_db"):
        with psycopg.connect(dsns[where], autocommit=True) as conn:
            install(conn)
            conn.execute("CREATE TABLE public.ledger AS SELECT g AS id FROM generate_series(1, 10) g")
            for level, role in names.items():
                conn.execute(f"SELECT backup.grant_role(%s::text, '{level}'::text)", (role,))
            conn.execute(sql.SQL("GRANT SELECT ON public.ledger TO {}").format(sql.Identifier(names["operator"])))
    yield {
        "dsns": dsns,
        "names": names,
        "as": lambda role, where="dba": make_conninfo(dsns[where], user=names[role]),
    }
    with psycopg.connect(dsns["cron_db"], autocommit=True) as conn:  # shared with tests/cron's other tests
        conn.execute("DELETE FROM backup.backup_schedule WHERE created_by = ANY(%s)", (list(names.values()),))
        conn.execute("DROP TABLE public.ledger")
        for role in names.values():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with psycopg.connect(cron_cluster.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
        for role in names.values():
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize("where", ["dba", "cron_db"])
@pytest.mark.parametrize("role", ["operator", "reviewer"])
def test_check_schedule_list_and_fleet_work_for_operators_and_reviewers(
    capsys: pytest.CaptureFixture[str], team: dict, role: str, where: str
) -> None:
    dsn = team["as"](role, where)
    code, out, err = run(capsys, "schedule", "list", "--json", "--dsn", dsn)
    assert code == 0, err
    state = json.loads(out)["pg_cron"]
    assert state["here"] is (where == "cron_db")
    code, out, err = run(capsys, "schedule", "list", "--dsn", dsn)
    assert code == 0 and ("only a superuser can see" in out if where == "dba" else "pg_cron is installed here" in out)
    code, out, err = run(capsys, "check", "--fast", "--dsn", dsn)
    assert code in (0, 1) and "Traceback" not in err and "must be superuser" not in out + err, err
    code, out, err = run(capsys, "fleet", "--dsn", dsn, "--json")
    assert code in (0, 1) and json.loads(out)[0]["error"] in (None, ""), out


async def test_the_schedules_screen_for_an_operator(team: dict, make_app) -> None:
    from tests.app.helpers import screen_text, settle

    for where in ("dba", "cron_db"):
        app = make_app(team["as"]("operator", where), as_of=None)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("S")
            await settle(pilot)
            text = screen_text(pilot)
            assert "must be superuser" not in text and ("pg_cron" in text), text


def test_pg_cron_runs_an_operators_schedule_with_the_operators_rights(capsys, team: dict) -> None:
    """The job is the superuser's; the copy is made only while its author may read the table."""
    op = team["as"]("operator", "cron_db")
    assert run(capsys, "schedule", "add", "ledger", "--kind", "daily", "--cron", "* * * * *", "--dsn", op)[0] == 0
    dba = team["dsns"]["cron_db"]
    with psycopg.connect(dba, autocommit=True) as conn:
        conn.execute(
            sql.SQL("REVOKE SELECT ON public.ledger FROM {}").format(sql.Identifier(team["names"]["operator"]))
        )
        conn.execute("SELECT cron.schedule('bt-roles-run-due', '* * * * *', 'CALL backup.run_due_backups()')")
        try:
            deadline = time.monotonic() + 150
            while True:
                row = conn.execute(
                    "SELECT last_result, last_error FROM backup.backup_schedule WHERE created_by = %s",
                    (team["names"]["operator"],),
                ).fetchone()
                if row and row[0]:
                    break
                assert time.monotonic() < deadline, "pg_cron did not run the schedule within 150 s"
                time.sleep(0.5)
        finally:
            conn.execute("SELECT cron.unschedule('bt-roles-run-due')")
        assert row[0] == "failed" and "may not read" in row[1]
        assert (
            conn.execute(
                "SELECT count(*) FROM backup.backup_metadata "
                "WHERE original_table_name = 'ledger' AND schedule_id IS NOT NULL"
            ).fetchone()[0]
            == 0
        )
