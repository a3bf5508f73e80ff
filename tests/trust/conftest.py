"""A team on one database, for the trust-boundary attacks (#22): the DBA (the test's superuser,
who installed), an operator and a reviewer granted the README's way, a plain role with nothing, and
an attacker schema the operator owns (a role with CREATE on the database, or its own schema, is
ordinary). A live canary table whose rows must never change, and a table only the DBA may read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.conftest import make_table, scalar

CANARY_ROWS = 7


@dataclass(frozen=True)
class Team:
    dba: str  # DSN of the installing superuser
    operator: str
    reviewer: str
    plain: str
    names: dict[str, str]  # role -> its name

    def dsn(self, role: str) -> str:
        return getattr(self, role)


def canary(conn: psycopg.Connection) -> list[tuple]:
    """The canary's rows, read as the superuser: they never change."""
    return conn.execute("SELECT id, label FROM public.canary ORDER BY id").fetchall()


def is_superuser(conn: psycopg.Connection, role: str) -> bool:
    return bool(scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)))


@pytest.fixture
def team(installed: psycopg.Connection, dsn: str) -> Iterator[Team]:
    suffix = uuid.uuid4().hex[:8]
    names = {level: f"bt_{level}_{suffix}" for level in ("operator", "reviewer", "plain")}
    for role in names.values():
        installed.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    installed.execute("SELECT backup.grant_role(%s::text, 'operator'::text)", (names["operator"],))
    installed.execute("SELECT backup.grant_role(%s::text, 'reviewer'::text)", (names["reviewer"],))
    make_table(installed, "canary", rows=CANARY_ROWS)
    make_table(installed, "secrets", rows=3)
    make_table(installed, "shared", rows=5)
    installed.execute(
        sql.SQL("GRANT SELECT ON public.canary, public.shared TO {}").format(sql.Identifier(names["operator"]))
    )
    # The attacker's own schema: where an operator keeps the functions it would like others to run.
    installed.execute(sql.SQL("CREATE SCHEMA att AUTHORIZATION {}").format(sql.Identifier(names["operator"])))
    installed.execute("GRANT USAGE ON SCHEMA att TO PUBLIC")
    yield Team(
        dba=dsn,
        operator=make_conninfo(dsn, user=names["operator"]),
        reviewer=make_conninfo(dsn, user=names["reviewer"]),
        plain=make_conninfo(dsn, user=names["plain"]),
        names=names,
    )
    for role in names.values():
        installed.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", (list(names.values()),)
        )
    for role in names.values():
        installed.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def connect_as(team: Team, role: str) -> psycopg.Connection:
    """A plain session of that role (autocommit), search_path as PostgreSQL's default."""
    return psycopg.connect(team.dsn(role), autocommit=True)


def plant_escalation(team: Team, conn_as_operator: psycopg.Connection) -> None:
    """att.escalate(): what the operator wants someone else to run. It makes the operator
    superuser (only works as a superuser), empties the canary (only as its owner) and counts its
    runs in att.ran, a sequence anyone may advance: any run at all is a finding."""
    conn_as_operator.execute("CREATE SEQUENCE att.ran")
    conn_as_operator.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE att.ran TO PUBLIC")
    conn_as_operator.execute(
        sql.SQL(
            "CREATE FUNCTION att.escalate() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM nextval('att.ran'); "
            "BEGIN EXECUTE 'ALTER ROLE {} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END; "
            "BEGIN DELETE FROM public.canary; EXCEPTION WHEN OTHERS THEN NULL; END; "
            "RETURN true; END $$"
        ).format(sql.Identifier(team.names["operator"]))
    )
    conn_as_operator.execute("GRANT EXECUTE ON FUNCTION att.escalate() TO PUBLIC")


def escalations(conn: psycopg.Connection) -> int:
    """How many times att.escalate() ran (0 is the only good answer)."""
    last, called = conn.execute("SELECT last_value, is_called FROM att.ran").fetchone()  # type: ignore[misc]
    return int(last) if called else 0
