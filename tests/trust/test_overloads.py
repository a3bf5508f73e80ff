"""Overloads planted in schema backup (#22.1): 0.2's operator had CREATE there, added
`backup.cron_field(text, integer, integer, text, text)`, and the DBA's `schedule list` ran it (an
untyped '{}' prefers text). Now nobody but the owner may create in schema backup, and even when
look-alikes exist (a superuser's mistake, or left from 0.2) no call of ours resolves to one.

The look-alikes are derived from the schema: for every function and procedure of ours, one overload
per argument with that argument's type replaced by the ones PostgreSQL would prefer for an untyped
or small value (text, varchar, smallint, integer, numeric, json, ...), one with every argument
text, and a VARIADIC text[] one; in schema backup and in public. Each counts its runs in a sequence
before it raises. Then every entry point runs as the DBA, the operator and the reviewer: the CLI's
commands, the TUI's screens, and the procedures pg_cron calls. None may run.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import scalar
from tests.trust.conftest import CANARY_ROWS, Team, canary, connect_as

# What a caller's untyped or small value could resolve to instead of each of our parameter types.
_LOOKALIKES: dict[str, tuple[str, ...]] = {
    "text": ("character varying", "name", "jsonb", "integer"),
    "bigint": ("smallint", "integer", "numeric", "text"),
    "integer": ("smallint", "bigint", "numeric", "text"),
    "jsonb": ("text", "json", "character varying"),
    "boolean": ("text", "integer"),
    "timestamp with time zone": ("text", "timestamp without time zone", "date"),
    "text[]": ("text", "character varying[]", "name[]"),
    "oid": ("integer", "bigint", "text"),
    "oid[]": ("integer[]", "text"),
    "regclass": ("text", "oid"),
    "interval": ("text",),
    "interval[]": ("text[]",),
    "date": ("text", "timestamp with time zone"),
    "backup.prune_run": ("text", "record"),
    "backup.cron_spec": ("text", "record"),
}


def _returns(conn: psycopg.Connection, oid: int) -> tuple[str, str]:
    """(extra OUT parameters, RETURNS clause) that give a look-alike our function's result shape."""
    names, modes, types, result = conn.execute(
        "SELECT p.proargnames, p.proargmodes::text[], p.proallargtypes::regtype[]::text[], "
        "pg_get_function_result(p.oid) FROM pg_proc p WHERE p.oid = %s",
        (oid,),
    ).fetchone()  # type: ignore[misc]
    if modes and "o" in modes:
        outs = [
            f"OUT {sql.Identifier(n).as_string(conn)} {t}"
            for n, m, t in zip(names, modes, types, strict=True)
            if m == "o"
        ]
        return ", " + ", ".join(outs), ""
    return "", f"RETURNS {result}"


def plant_overloads(conn: psycopg.Connection) -> int:
    """Plant the look-alikes (as the superuser: the 0.2 operator's CREATE, or a careless owner);
    returns how many."""
    conn.execute("CREATE SEQUENCE IF NOT EXISTS public.overload_hits")
    conn.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.overload_hits TO PUBLIC")
    ours = conn.execute(
        "SELECT p.oid, p.proname::text, p.prokind, p.proargtypes::regtype[]::text[] FROM pg_proc p "
        "WHERE p.pronamespace = 'backup'::regnamespace AND p.prorettype <> 'trigger'::regtype ORDER BY 1"
    ).fetchall()
    existing = {
        (name, tuple(types))
        for name, types in conn.execute(
            "SELECT proname::text, proargtypes::regtype[]::text[] FROM pg_proc "
            "WHERE pronamespace IN ('backup'::regnamespace, 'public'::regnamespace)"
        )
    }
    planted = 0
    for oid, name, kind, types in ours:
        variants = {("VARIADIC text[]",)}
        if types:
            variants.add(tuple("text" for _ in types))
        for i, t in enumerate(types):
            for other in _LOOKALIKES.get(t, ("text",)):
                variants.add(tuple(types[:i]) + (other,) + tuple(types[i + 1 :]))
        outs, returns = _returns(conn, oid)
        for variant in sorted(variants):
            if (name, variant) in existing or list(variant) == types:
                continue
            args = ", ".join(f"a{i} {t}" for i, t in enumerate(variant))
            body = (
                "$$ BEGIN PERFORM nextval('public.overload_hits'); "
                f"RAISE EXCEPTION 'planted overload {name}({', '.join(variant)}) ran'; END $$"
            )
            for schema in ("backup", "public"):
                target = sql.Identifier(schema, name).as_string(conn)
                if kind == "p":
                    statement = f"CREATE PROCEDURE {target}({args}) LANGUAGE plpgsql AS {body}"
                else:
                    params = args + (outs if args else outs.removeprefix(", "))
                    statement = f"CREATE FUNCTION {target}({params}) {returns} LANGUAGE plpgsql AS {body}"
                try:
                    with conn.transaction():
                        conn.execute(statement)  # type: ignore[arg-type]
                        what = "PROCEDURE" if kind == "p" else "FUNCTION"
                        conn.execute(f"GRANT EXECUTE ON {what} {target}({', '.join(variant)}) TO PUBLIC")  # type: ignore[arg-type]
                    planted += 1
                except psycopg.Error:
                    pass  # a variant PostgreSQL refuses (VARIADIC with OUT, say): nothing to fear from it
    return planted


def overload_hits(conn: psycopg.Connection) -> int:
    last, called = conn.execute("SELECT last_value, is_called FROM public.overload_hits").fetchone()  # type: ignore[misc]
    return int(last) if called else 0


def test_an_operator_cannot_create_anything_in_schema_backup(team: Team, installed: psycopg.Connection) -> None:
    with connect_as(team, "operator") as op:
        for statement in (
            "CREATE FUNCTION backup.cron_field(text, integer, integer, text, text) RETURNS integer[] "
            "LANGUAGE sql AS 'SELECT NULL::integer[]'",
            "CREATE TABLE backup.mine (x int)",
            "CREATE VIEW backup.mine AS SELECT 1",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                op.execute(statement)  # type: ignore[arg-type]
    assert scalar(installed, "SELECT count(*) FROM pg_proc WHERE proname = 'cron_field'") == 1


def test_planted_overloads_never_run_from_any_entry_point(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    installed.execute(
        "SELECT backup.create_table_backup('shared'::text, 'before'::text, 'monthly'::text, 'public'::text)"
    )
    installed.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '400 days' WHERE backup_kind = 'monthly'"
    )
    daily = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'old'::text, 'daily'::text, 'public'::text)"
    )
    installed.execute(
        "UPDATE backup.backup_metadata SET backup_date = now() - interval '30 days' WHERE backup_table_name = %s::text",
        (daily,),
    )
    installed.execute("SELECT backup.create_table_backup('shared'::text, 'new'::text, 'daily'::text, 'public'::text)")
    installed.execute("CREATE TABLE backup.shared_backup_20250101 AS TABLE public.shared")
    assert plant_overloads(installed) > 300
    ops, dba, rev = team.operator, team.dba, team.reviewer
    target = str(tmp_path / "cold")
    steps: list[tuple[str, tuple[str, ...]]] = [
        (dba, ("list",)),
        (rev, ("list", "--json")),
        (rev, ("prune", "--json")),
        (rev, ("schedule", "list")),
        (ops, ("create", "shared", "--reason", "operator's copy", "--kind", "weekly")),
        (ops, ("schedule", "add", "shared", "--kind", "daily", "--cron", "0 2 * * *")),
        (dba, ("schedule", "list", "--json")),
        (ops, ("schedule", "pause", "shared")),
        (ops, ("schedule", "resume", "shared")),
        (ops, ("schedule", "run", "shared")),
        (dba, ("run-due",)),
        (ops, ("adopt", "shared_backup_20250101")),
        (ops, ("archive", daily, "--to", target, "--yes")),
        (ops, ("verify", daily)),
        (ops, ("restore", daily, "--as", "shared_again")),
        (ops, ("drop", daily, "--forget-archive", "--yes")),
        (ops, ("adopt", "--from", str(Path(target) / daily))),
        (ops, ("prune", "--apply", "--yes")),
        (ops, ("schedule", "remove", "shared", "--yes")),
        (dba, ("grant", team.names["plain"], "--reviewer", "--yes")),
        (dba, ("check", "--fast")),
        (dba, ("check", "--fix", "exposure", "--yes")),
        (rev, ("check",)),
    ]
    installed.execute(
        sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(team.names["operator"]))
    )  # where the operator's restore lands
    failed = []
    for dsn, argv in steps:
        code, out, err = run(capsys, *argv, "--dsn", dsn)
        if "planted overload" in out + err or (code != 0 and argv[0] not in ("check",)):
            failed.append(f"{argv}: exit {code}: {err.strip()}")
    with connect_as(team, "operator") as op:  # what pg_cron runs, as an operator's job would
        op.execute("CALL backup.run_due_backups()")
        op.execute("CALL backup.apply_prune()")
    assert failed == []
    assert overload_hits(installed) == 0
    assert canary(installed) == [(i, f"row {i}") for i in range(1, CANARY_ROWS + 1)]
    # check names every look-alike as an object that is not ours.
    code, out, _ = run(capsys, "check", "--json", "--dsn", dba)
    foreign = {f["subject"] for f in json.loads(out) if f["category"] == "foreign"}
    assert "function backup.cron_field(text,integer,integer,text,text)" in foreign
    assert "function backup.drop_table_backup(character varying)" in foreign


async def test_planted_overloads_never_run_from_the_tui(team: Team, installed: psycopg.Connection, make_app) -> None:
    from tests.app.helpers import screen_text, settle

    installed.execute(
        "SELECT backup.create_table_backup('shared'::text, 'before'::text, 'daily'::text, 'public'::text)"
    )
    installed.execute(
        "SELECT backup.add_schedule('shared'::text, 'daily'::text, '0 2 * * *'::text, NULL::text, 'public'::text)"
    )
    assert plant_overloads(installed) > 300
    for role in ("dba", "operator", "reviewer"):
        app = make_app(team.dsn(role), as_of=None)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            assert "backups" in screen_text(pilot)
            if role == "operator":
                await pilot.press("c")
                await settle(pilot)
                await pilot.press(*"shared", "tab", *"from the TUI", "enter")
                await settle(pilot)
                assert "created shared_backup_" in screen_text(pilot)
            for keys in (("S",), ("escape", "exclamation_mark"), ("escape", "p"), ("escape", "g"), ("escape", "enter")):
                await pilot.press(*keys)
                await settle(pilot)
                assert "planted overload" not in screen_text(pilot), (role, keys)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_reason = 'from the TUI'") == 1
    assert overload_hits(installed) == 0
