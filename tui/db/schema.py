"""Installing and upgrading the backup schema from sql/.

Two kinds of file (see sql/migrations and sql/definitions):
- migrations/NNN_name.sql: tables, columns, constraints, seed rows. Each runs once, recorded in
  backup.schema_version (0.1 recorded its function files 002-007 there too; they are superseded).
- definitions/NAME.sql: every function, procedure, view and grant, each defined in one file.
  A file is re-applied when its text differs from what backup.schema_definitions recorded, and
  so is every file that requires it (a `-- requires: a, b` line; `*`: after all others).

Everything runs in one transaction under an advisory lock: a refusal rolls it all back. Grants a
DBA gave on our functions and views survive a file that drops and re-creates them.
"""

from __future__ import annotations

import functools
import graphlib
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql

from tui import __version__
from tui.model import InstallReport, SchemaState

_MIGRATION = re.compile(r"^(\d{3})_(.+)\.sql$")
_REQUIRES = re.compile(r"^--\s*requires:\s*(.*)$", re.MULTILINE)
# Roles an object of ours is never granted to, whatever was there before an upgrade.
_NEVER_RESTORED = ("anon", "authenticated")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:03d}_{self.name}"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    sql: str
    requires: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def sql_dir() -> Path:
    """sql/ inside the installed package (wheel), else beside it in a source checkout (editable)."""
    packaged = resources.files("tui") / "sql"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "sql"


@functools.cache
def migrations() -> tuple[Migration, ...]:
    """The migrations in the order they apply."""
    found = []
    for path in sorted((sql_dir() / "migrations").iterdir()):
        match = _MIGRATION.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    if not found:
        raise RuntimeError(f"no migrations found in {sql_dir() / 'migrations'}")
    return tuple(found)


@functools.cache
def definitions() -> tuple[Definition, ...]:
    """Every definition file, in an order where each comes after what it requires."""
    files = {p.stem: p.read_text(encoding="utf-8") for p in sorted((sql_dir() / "definitions").glob("*.sql"))}
    requires: dict[str, tuple[str, ...]] = {}
    for name, text in files.items():
        match = _REQUIRES.search(text)
        if match is None:
            raise RuntimeError(f"sql/definitions/{name}.sql has no `-- requires:` line")
        wanted = [w.strip() for w in match[1].split(",") if w.strip() and w.strip() != "(nothing)"]
        if wanted == ["*"]:
            wanted = [other for other in files if other != name]
        unknown = set(wanted) - files.keys()
        if unknown:
            raise RuntimeError(f"sql/definitions/{name}.sql requires unknown {', '.join(sorted(unknown))}")
        requires[name] = tuple(wanted)
    sorter = graphlib.TopologicalSorter(requires)
    order: list[str] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # sorted: the same order on every machine
        order.extend(ready)
        sorter.done(*ready)
    return tuple(Definition(name, files[name], requires[name]) for name in order)


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()
    return bool(row and row[0])


def _applied_migrations(conn: psycopg.Connection) -> set[int]:
    return {r[0] for r in conn.execute("SELECT version FROM backup.schema_version")}


def _applied_definitions(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """{file: (sha256, tool version)} as recorded; empty before 0.2."""
    if not _exists(conn, "backup.schema_definitions"):
        return {}
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT name, sha256, tool FROM backup.schema_definitions")}


def _version_tuple(version: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version or "0"))


def pending(conn: psycopg.Connection) -> tuple[list[Migration], list[Definition]]:
    """The migrations not yet run and the definitions to (re-)apply, in order."""
    done = _applied_migrations(conn) if _exists(conn, "backup.schema_version") else set()
    todo = [m for m in migrations() if m.version not in done]
    applied = _applied_definitions(conn)
    changed: set[str] = set()
    for definition in definitions():  # in order: what a file requires is decided before it
        recorded = applied.get(definition.name)
        if recorded is None or recorded[0] != definition.sha256 or changed & set(definition.requires):
            changed.add(definition.name)
    return todo, [d for d in definitions() if d.name in changed]


def schema_state(conn: psycopg.Connection) -> SchemaState:
    """Absent, legacy (2025 layout), outdated, current, or newer than this version."""
    if not _exists(conn, "backup.backup_metadata"):
        return SchemaState.ABSENT
    if not _exists(conn, "backup.schema_version"):
        return SchemaState.LEGACY
    known = {m.version for m in migrations()}
    applied = _applied_migrations(conn)
    recorded_tools = [tool for _, tool in _applied_definitions(conn).values()]
    if max(applied, default=0) > max(known) or any(
        _version_tuple(t) > _version_tuple(__version__) for t in recorded_tools
    ):
        return SchemaState.NEWER
    todo, definitions_due = pending(conn)
    return SchemaState.OUTDATED if todo or definitions_due else SchemaState.CURRENT


# Grants on our functions and views, to put back after a definition dropped and re-created them.
_GRANTS = """
SELECT kind, identity, grantee, privilege, grantable FROM (
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS kind,
           p.oid::regprocedure::text AS identity, a.grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
      FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
     WHERE p.pronamespace = 'backup'::regnamespace
        OR p.oid = to_regprocedure('public.get_backup_tables()')
    UNION ALL
    SELECT 'TABLE', c.oid::regclass::text, a.grantee, a.privilege_type, a.is_grantable
      FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
     WHERE (c.relnamespace = 'backup'::regnamespace AND c.relkind = 'v')
        OR c.oid = to_regclass('public.backup_inventory_view')
) g
JOIN pg_roles r ON r.oid = g.grantee
WHERE r.rolname <> ALL (%s)
"""


def _saved_grants(conn: psycopg.Connection) -> list[tuple[str, str, int, str, bool]]:
    return conn.execute(_GRANTS, (list(_NEVER_RESTORED),)).fetchall()


def _restore_grants(conn: psycopg.Connection, saved: list[tuple[str, str, int, str, bool]]) -> None:
    now = set(_saved_grants(conn))
    for kind, identity, grantee, privilege, grantable in saved:
        if (kind, identity, grantee, privilege, grantable) in now:
            continue
        exists = "to_regprocedure" if kind != "TABLE" else "to_regclass"
        row = conn.execute(f"SELECT {exists}(%s) IS NOT NULL, %s::regrole::text", (identity, grantee)).fetchone()
        if not row or not row[0]:
            continue  # the object is gone for good: nothing to put back
        conn.execute(
            sql.SQL("GRANT {} ON {} {} TO {}{}").format(
                sql.SQL(privilege),
                sql.SQL(kind),
                sql.SQL(identity),  # regprocedure/regclass text: already quoted by PostgreSQL
                sql.SQL(row[1]),  # regrole text: quoted by PostgreSQL
                sql.SQL(" WITH GRANT OPTION" if grantable else ""),
            )
        )


def install(conn: psycopg.Connection) -> InstallReport:
    """Run pending migrations, then re-apply changed definitions, all in one transaction.

    Idempotent: on an up-to-date database it changes nothing. A refusal inside a file (duplicate
    backup names in a legacy table) rolls everything back.
    """
    with conn.transaction():
        # Two installers at once would race on DDL; the second waits here, then finds nothing to do.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('backup-tui install'))")
        before = schema_state(conn)
        if before is SchemaState.NEWER:
            raise RuntimeError(
                "the backup schema was installed by a newer backup-tui: this version never downgrades it"
            )
        todo, _ = pending(conn)
        for migration in todo:
            conn.execute(migration.sql)  # type: ignore[arg-type]  # a trusted file of several statements
            conn.execute(
                "INSERT INTO backup.schema_version (version, name) VALUES (%s, %s)", (migration.version, migration.name)
            )
        _, due = pending(conn)
        saved = _saved_grants(conn) if due else []
        for definition in due:
            conn.execute(definition.sql)  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO backup.schema_definitions (name, sha256, tool) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, tool = excluded.tool, "
                "applied_at = now(), applied_by = session_user",
                (definition.name, definition.sha256, __version__),
            )
        if due:
            _restore_grants(conn, saved)
    return InstallReport(before, tuple(m.label for m in todo), tuple(d.name for d in due))
