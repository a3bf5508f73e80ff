"""#27 `backup-tui diff`: what changed since a backup, on the server, by key or as multisets; values
of every awkward type compared right and shown literally; the --sql statements put the live table
back (and are only written, never run); a side the caller may not read is refused in one line; a
lock held elsewhere ends the wait at lock_timeout."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import scalar
from tui.cli import main
from tui.db.backups import create_backup

AWKWARD = 'Odd "Ledger" é'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ledger(installed: psycopg.Connection) -> str:
    """A table of awkward types and a hostile name, backed up, then changed in every way."""
    table = sql.Identifier("public", AWKWARD)
    installed.execute(
        sql.SQL(
            'CREATE TABLE {} (id int PRIMARY KEY, "Label" text, doc jsonb, tags text[], raw bytea, '
            "at timestamptz, spot point, amount numeric)"
        ).format(table)
    )
    installed.execute(
        sql.SQL(
            "INSERT INTO {} SELECT g, 'row ' || g, jsonb_build_object('g', g), ARRAY['a', NULL], '\\x00ff'::bytea, "
            "CASE WHEN g % 2 = 0 THEN 'infinity'::timestamptz ELSE '-infinity' END, point(g, g), NULL "
            "FROM generate_series(1, 200) g"
        ).format(table)
    )
    name = create_backup(installed, AWKWARD, "before the migration", "pre-migration")
    installed.execute(sql.SQL("DELETE FROM {} WHERE id IN (1, 2)").format(table))
    installed.execute(
        sql.SQL("INSERT INTO {} (id, \"Label\", at) VALUES (900, '[/x] \x1b[2J', 'infinity')").format(table)
    )
    installed.execute(sql.SQL('UPDATE {} SET "Label" = NULL WHERE id = 10').format(table))
    installed.execute(sql.SQL("UPDATE {} SET doc = '{{\"g\": [1]}}', spot = point(0, 0) WHERE id = 11").format(table))
    installed.execute(sql.SQL("UPDATE {} SET raw = '\\x00fe', at = '-infinity' WHERE id = 12").format(table))
    installed.execute(sql.SQL("UPDATE {} SET tags = ARRAY['a'] WHERE id = 13").format(table))
    installed.execute(sql.SQL("UPDATE {} SET amount = 0 WHERE id = 14").format(table))
    installed.execute(sql.SQL("UPDATE {} SET at = at WHERE id = 15").format(table))  # a write that changes nothing
    return name


def test_diff_finds_every_change_by_key_and_shows_it_literally(ledger: str, dsn: str, capsys) -> None:
    code, out, _ = run(capsys, "diff", ledger, "--json", "--dsn", dsn)
    assert code == 1  # as diff(1): different
    result = json.loads(out)
    assert result["key"] == ["id"] and result["other"] == AWKWARD
    assert (result["only_backup"], result["only_other"], result["changed"]) == (2, 1, 5)
    assert result["changed_by_column"] == {"Label": 1, "doc": 1, "raw": 1, "at": 1, "tags": 1, "spot": 1, "amount": 1}
    changed = {s["key"]["id"]: s["changed"] for s in result["samples"]["changed"]}
    assert changed == {10: ["Label"], 11: ["doc", "spot"], 12: ["raw", "at"], 13: ["tags"], 14: ["amount"]}
    assert [s["key"]["id"] for s in result["samples"]["deleted"]] == [1, 2]
    (added,) = result["samples"]["added"]
    assert added["other_row"]["Label"] == "[/x] \x1b[2J"  # exact in JSON
    code, out, _ = run(capsys, "diff", ledger, "--dsn", dsn, "--limit", "3")
    assert code == 1 and "\x1b" not in out and "\\u001b[2J" in out and "[/x]" in out  # literal, escaped
    assert "2 deleted since, 1 added since, 5 changed" in " ".join(out.split())


def test_the_sql_puts_the_live_table_back_and_is_never_run(
    ledger: str, installed: psycopg.Connection, dsn: str, capsys, tmp_path: Path
) -> None:
    script = tmp_path / "repair.sql"
    before = scalar(installed, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(AWKWARD)).as_string(installed))
    code, _, _ = run(capsys, "diff", ledger, "--sql", str(script), "--dsn", dsn)
    assert code == 1
    text = script.read_text()
    assert text.count("BEGIN;") == 1 and text.rstrip().endswith("COMMIT;")
    assert "INSERT INTO" in text and "UPDATE" in text and "DELETE FROM" in text
    assert (
        scalar(installed, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(AWKWARD)).as_string(installed))
        == before
    )
    installed.execute(text.replace("BEGIN;", "").replace("COMMIT;", ""))  # the DBA ran it
    code, out, _ = run(capsys, "diff", ledger, "--json", "--dsn", dsn)
    assert code == 0, out
    assert json.loads(out)["only_backup"] == 0
    with pytest.raises(SystemExit) as usage:  # a section that does not exist: a usage error, no traceback
        main(["diff", ledger, "--sql", str(tmp_path / "x.sql"), "--sections", "insert,truncate", "--dsn", dsn])
    assert usage.value.code == 2 and "sections are insert, update, delete, not truncate" in capsys.readouterr().err
    only_inserts = tmp_path / "inserts.sql"
    run(capsys, "diff", ledger, "--sql", str(only_inserts), "--sections", "insert", "--dsn", dsn)
    assert "INSERT INTO" in only_inserts.read_text() and "DELETE FROM" not in only_inserts.read_text()


def test_without_a_key_rows_are_compared_as_multisets(installed: psycopg.Connection, dsn: str, capsys) -> None:
    installed.execute("CREATE TABLE public.events (kind text, payload json)")
    installed.execute("INSERT INTO public.events SELECT 'k', '{\"a\": 1}' FROM generate_series(1, 3)")
    name = create_backup(installed, "events", "before", "manual")
    installed.execute("DELETE FROM public.events WHERE ctid = (SELECT min(ctid) FROM public.events)")
    installed.execute("INSERT INTO public.events VALUES ('new', NULL)")
    code, out, _ = run(capsys, "diff", name, "--json", "--dsn", dsn)
    result = json.loads(out)
    assert code == 1 and result["key"] is None and result["changed"] is None
    assert (result["only_backup"], result["only_other"]) == (1, 1)
    code, _, err = run(capsys, "diff", name, "--sql", "/dev/null", "--dsn", dsn)
    assert code == 1 and "no primary or unique key" in err and len(err.strip().splitlines()) == 1


def test_against_another_backup_and_column_changes(installed: psycopg.Connection, dsn: str, capsys) -> None:
    installed.execute("CREATE TABLE public.orders (id int PRIMARY KEY, total int, note text)")
    installed.execute("INSERT INTO public.orders SELECT g, g, 'x' FROM generate_series(1, 10) g")
    first = create_backup(installed, "orders", "first", "manual")
    installed.execute("ALTER TABLE public.orders DROP COLUMN note, ADD COLUMN paid bool, ALTER total TYPE bigint")
    installed.execute("UPDATE public.orders SET paid = true WHERE id = 1")
    second = create_backup(installed, "orders", "second", "manual")
    code, out, _ = run(capsys, "diff", first, "--against", second, "--json", "--dsn", dsn)
    result = json.loads(out)
    assert code == 1 and result["other"] == f"backup.{second}" and result["key"] == ["id"]
    changes = {c["name"]: c["change"] for c in result["columns"]}
    assert changes == {"id": "same", "total": "retyped", "note": "removed", "paid": "added"}
    assert (result["only_backup"], result["only_other"], result["changed"]) == (0, 0, 0)


def test_a_lock_held_elsewhere_ends_the_wait_at_lock_timeout(ledger: str, dsn: str, capsys) -> None:
    with psycopg.connect(dsn) as holder:
        holder.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(AWKWARD)))
        code, _, err = run(capsys, "diff", ledger, "--lock-timeout", "200ms", "--dsn", dsn)
    assert code == 1 and err.startswith("backup-tui: lock timeout") and len(err.strip().splitlines()) == 1
