"""Archives are untrusted input (#22.3). In 0.2 `restore` built `CREATE TABLE ... (col <type>)` from
the manifest's type text, checked only with ::regtype: a domain whose CHECK calls the operator's
function ran on every row COPY loaded, as the restoring DBA (superuser after the DBA's restore).
The operator had registered the archive with `adopt --from`: data and manifest were consistent.

Now a column type is accepted only when it is exactly one type name built from the system's types
or types the restoring role or the schema's owner owns; else one line names the column and type,
and nothing is restored."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import scalar
from tests.trust.conftest import CANARY_ROWS, Team, canary, connect_as, escalations, is_superuser, plant_escalation


@pytest.fixture
def archived(team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """A backup of public.shared archived by the DBA; returns its folder."""
    name = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'r'::text, 'monthly'::text, 'public'::text)"
    )
    code, _, err = run(capsys, "archive", name, "--to", str(tmp_path), "--yes", "--dsn", team.dba)
    assert code == 0, err
    with connect_as(team, "operator") as op:
        plant_escalation(team, op)
        op.execute("CREATE DOMAIN att.evil AS integer CHECK (att.escalate())")
        op.execute("CREATE TYPE att.pair AS (a integer, b att.evil)")
        op.execute("CREATE TYPE att.mood AS ENUM ('ok')")
    return tmp_path / name


def _retype(folder: Path, column: str, new_type: str, name: str | None = None) -> None:
    """What someone who may write to the archive's folder can do: change the manifest's words."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for c in manifest["columns"]:
        if c["name"] == column:
            c["type"] = new_type
            if name is not None:
                c["name"] = name
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("column", "new_type", "says"),
    [
        ("id", "att.evil", "att.evil (owned by"),
        ("id", "att.evil[]", "att.evil[] (owned by"),
        ("id", "att.pair", "att.pair (owned by"),
        ("id", "att.mood", "att.mood (owned by"),
        ("id", 'integer, "x" integer CHECK (att.escalate())', "not a type"),
        ("id", "integer); SELECT att.escalate(); --", "not a type name"),
        ("label", "text -- a comment", "not a type name"),
        ("label", "pg_catalog.text\nCHECK (att.escalate())", "not a type name"),
        ("id", "record", "pseudo-type"),
        ("id", "no_such_type", "not a type in this database"),
    ],
)
def test_restore_refuses_a_column_type_it_must_not_trust(
    team: Team,
    installed: psycopg.Connection,
    capsys: pytest.CaptureFixture[str],
    archived: Path,
    column: str,
    new_type: str,
    says: str,
) -> None:
    _retype(archived, column, new_type)
    for argv in (("restore", archived.name, "--as", "back"), ("restore", "--from", str(archived), "--as", "back2")):
        code, out, err = run(capsys, *argv, "--dsn", team.dba)
        assert code == 1 and says in err and err.count("\n") == 1 and "Traceback" not in err, err
        assert repr(column) in err and "nothing was restored" in err
    assert scalar(installed, "SELECT count(*) FROM pg_class WHERE relname IN ('back', 'back2')") == 0
    assert escalations(installed) == 0 and not is_superuser(installed, team.names["operator"])
    assert canary(installed) == [(i, f"row {i}") for i in range(1, CANARY_ROWS + 1)]


def test_adopt_from_refuses_such_an_archive_too(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], archived: Path
) -> None:
    run(capsys, "drop", archived.name, "--forget-archive", "--yes", "--dsn", team.dba)
    _retype(archived, "id", "att.evil")
    code, _, err = run(capsys, "adopt", "--from", str(archived), "--dsn", team.operator)
    assert code == 1 and "att.evil" in err and err.count("\n") == 1, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    assert escalations(installed) == 0


def test_trusted_types_and_hostile_column_names_restore(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], archived: Path
) -> None:
    installed.execute("CREATE TYPE public.level AS ENUM ('row 1', 'row 2', 'row 3', 'row 4', 'row 5')")  # the owner's
    _retype(archived, "label", "public.level", name='la"bel]; DROP TABLE public.canary; --')
    code, out, err = run(capsys, "restore", archived.name, "--as", "back", "--dsn", team.dba)
    assert code == 0 and "5 rows" in out, err
    column = scalar(
        installed, "SELECT attname::text FROM pg_attribute WHERE attrelid = 'public.back'::regclass AND attnum = 2"
    )
    assert column == 'la"bel]; DROP TABLE public.canary; --'
    assert canary(installed) == [(i, f"row {i}") for i in range(1, CANARY_ROWS + 1)]


@pytest.mark.parametrize(
    "columns",
    [[1, 2], [], "id int", [{"name": "id"}], [{"name": "", "type": "int"}], [{"name": "x" * 64, "type": "int"}]],
)
def test_a_manifest_of_the_wrong_shape_is_one_line(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str], archived: Path, columns: object
) -> None:
    manifest = json.loads((archived / "manifest.json").read_text())
    manifest["columns"] = columns
    (archived / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "restore", "--from", str(archived), "--as", "back", "--dsn", team.dba)
    assert code == 1 and "not a backup-tui manifest" in err and err.count("\n") == 1, err
    assert scalar(installed, "SELECT to_regclass('public.back') IS NULL")


def test_restore_from_the_database_refuses_a_table_another_role_owns(
    team: Team, installed: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    op = team.names["operator"]
    name = scalar(
        installed, "SELECT backup.create_table_backup('shared'::text, 'r'::text, 'manual'::text, 'public'::text)"
    )
    with connect_as(team, "operator") as conn:
        plant_escalation(team, conn)
    # A 0.2 operator's backup: its own table (with a policy that runs its function for readers).
    installed.execute(sql.SQL("ALTER TABLE backup.{} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(op)))
    with connect_as(team, "operator") as conn:
        conn.execute(sql.SQL("ALTER TABLE backup.{} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(name)))
        conn.execute(sql.SQL("ALTER TABLE backup.{} FORCE ROW LEVEL SECURITY").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE POLICY p ON backup.{} USING (att.escalate())").format(sql.Identifier(name)))
    installed.execute("SET ROLE NONE")
    code, _, err = run(capsys, "restore", name, "--as", "back", "--dsn", team.dba)
    assert code == 1 and f"belongs to {op}" in err, err
    assert escalations(installed) == 0
