"""Installing and upgrading the backup schema from sql/.

Two kinds of file (see sql/migrations and sql/definitions):
- migrations/NNN_name.sql: tables, columns, constraints, seed rows. Each runs once, recorded in
  backup.schema_version (0.1 recorded its function files 002-007 there too; they are superseded).
- definitions/NAME.sql: every function, procedure, view and grant, each defined in one file.
  A file is re-applied when its text differs from what backup.schema_definitions recorded, and
  so is every file that requires it (a `-- requires: a, b` line; `*`: after all others).

Everything runs in one transaction under an advisory lock: a refusal rolls it all back. Grants a
DBA gave on our functions and views survive a file that drops and re-creates them.

One owner: the role that installs owns schema backup and everything in it. A schema, or any object
in it, that another role owns is refused (that role could have replaced our functions, or planted
one that our calls would run), unless the DBA asks to take them over (`take_ownership`): then each
becomes the installer's and every definition is applied again. After the definitions, the role
model is enforced (backup.enforce_privileges): what a grant outside it gave is revoked and reported.
"""

from __future__ import annotations

import functools
import graphlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Recorded:
    """What the database says of its backup schema: which of our tables exist, the migrations
    run and the definitions applied ({file: (sha256, tool version)}, empty before 0.2)."""

    has_metadata: bool
    has_versions: bool
    migrations: frozenset[int]
    definitions: dict[str, tuple[str, str]]


_TABLES_THERE = (
    "SELECT to_regclass('backup.backup_metadata') IS NOT NULL, to_regclass('backup.schema_version') IS NOT NULL, "
    "to_regclass('backup.schema_definitions') IS NOT NULL"
)
_APPLIED = "(SELECT array_agg(version ORDER BY version) FROM backup.schema_version)"
_FILES = "(SELECT array_agg(ARRAY[name, sha256, tool]::text[]) FROM backup.schema_definitions)"


def send_recorded(conn: psycopg.Connection) -> Callable[[], Recorded]:
    """Which of our tables exist (waited for), then what those that do hold (sent; the returned
    call reads it): two statements whatever the schema's age (it was ten), and in pipeline mode
    the second travels with whatever the caller sends next."""
    row = conn.execute(_TABLES_THERE).fetchone()
    assert row is not None
    has_metadata, has_versions, has_definitions = row
    if not has_versions:
        return lambda: Recorded(has_metadata, False, frozenset(), {})
    cur = conn.execute(f"SELECT {_APPLIED}, {_FILES if has_definitions else 'NULL::text[]'}")

    return lambda: _held(has_metadata, cur)


def _held(has_metadata: bool, cur: psycopg.Cursor[Any]) -> Recorded:
    """What schema_version and schema_definitions hold, as read by the statement on `cur`."""
    versions, files = cur.fetchone() or (None, None)
    return Recorded(has_metadata, True, frozenset(versions or ()), {n: (sha, tool) for n, sha, tool in files or ()})


def recorded(conn: psycopg.Connection) -> Recorded:
    """Read in two round trips whatever the schema's age (it was ten): which tables exist, then
    what those that do hold."""
    return send_recorded(conn)()


def _version_tuple(version: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version or "0"))


def pending(conn: psycopg.Connection, known: Recorded | None = None) -> tuple[list[Migration], list[Definition]]:
    """The migrations not yet run and the definitions to (re-)apply, in order."""
    return _pending(known or recorded(conn))


def _pending(known: Recorded) -> tuple[list[Migration], list[Definition]]:
    todo = [m for m in migrations() if m.version not in known.migrations]
    changed: set[str] = set()
    for definition in definitions():  # in order: what a file requires is decided before it
        applied = known.definitions.get(definition.name)
        if applied is None or applied[0] != definition.sha256 or changed & set(definition.requires):
            changed.add(definition.name)
    return todo, [d for d in definitions() if d.name in changed]


def bet_state(conn: psycopg.Connection) -> Callable[[], SchemaState]:
    """The schema's state, both statements sent at once on the bet that our tables are all there
    (the usual case): nothing waited for. Where they are not, the second statement fails and the
    transaction with it; the caller then asks schema_state (Database._if_current)."""
    tables = conn.execute(_TABLES_THERE)
    held = conn.execute(f"SELECT {_APPLIED}, {_FILES}")

    def read() -> SchemaState:
        has_metadata, has_versions, has_definitions = tables.fetchone() or (False, False, False)
        if not (has_versions and has_definitions):  # cannot be: the statement above would have failed
            raise RuntimeError("schema_version or schema_definitions vanished in the same transaction")
        return state_of(_held(has_metadata, held))

    return read


def send_state(conn: psycopg.Connection) -> Callable[[], SchemaState]:
    """The schema's state, its second statement sent and not waited for (Session.read)."""
    known = send_recorded(conn)
    return lambda: state_of(known())


def schema_state(conn: psycopg.Connection) -> SchemaState:
    """Absent, legacy (2025 layout), outdated, current, or newer than this version."""
    return send_state(conn)()


def state_of(known: Recorded) -> SchemaState:
    """What the recorded tables say: absent, legacy, outdated, current or newer."""
    if not known.has_metadata:
        return SchemaState.ABSENT
    if not known.has_versions:
        return SchemaState.LEGACY
    newest = max(m.version for m in migrations())
    if max(known.migrations, default=0) > newest or any(
        _version_tuple(tool) > _version_tuple(__version__) for _, tool in known.definitions.values()
    ):
        return SchemaState.NEWER
    todo, definitions_due = _pending(known)
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


# Everything in schema backup that another role than {owner} owns, as (what, owner). Indexes, TOAST
# tables, identity sequences, row types and array types follow their table or type.
FOREIGN_OWNED = """
SELECT what, (SELECT r.rolname::text FROM pg_roles r WHERE r.oid = owner) FROM (
    SELECT 'schema backup' AS what, n.nspowner AS owner, 0 AS ord
      FROM pg_namespace n WHERE n.nspname = 'backup'
    UNION ALL
    SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
                          WHEN 'f' THEN 'foreign table ' WHEN 'c' THEN 'type ' ELSE 'table ' END
           || c.oid::regclass::text, c.relowner, 1
      FROM pg_class c
     WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                  AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
           || p.oid::regprocedure::text, p.proowner, 2
      FROM pg_proc p WHERE p.pronamespace = 'backup'::regnamespace
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.oid::regtype::text, t.typowner, 3
      FROM pg_type t
     WHERE t.typnamespace = 'backup'::regnamespace AND t.typrelid = 0 AND t.typtype <> 'm'
       AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
    UNION ALL
    SELECT 'operator ' || o.oid::regoperator::text, o.oprowner, 4
      FROM pg_operator o WHERE o.oprnamespace = 'backup'::regnamespace
    UNION ALL
    SELECT 'collation ' || c.oid::regcollation::text, c.collowner, 5
      FROM pg_collation c WHERE c.collnamespace = 'backup'::regnamespace
    UNION ALL
    SELECT 'conversion backup.' || quote_ident(c.conname), c.conowner, 6
      FROM pg_conversion c WHERE c.connamespace = 'backup'::regnamespace
    UNION ALL
    SELECT 'statistics backup.' || quote_ident(s.stxname), s.stxowner, 7
      FROM pg_statistic_ext s WHERE s.stxnamespace = 'backup'::regnamespace
    UNION ALL
    SELECT 'text search configuration ' || c.oid::regconfig::text, c.cfgowner, 8
      FROM pg_ts_config c WHERE c.cfgnamespace = 'backup'::regnamespace
    UNION ALL
    SELECT 'text search dictionary ' || d.oid::regdictionary::text, d.dictowner, 9
      FROM pg_ts_dict d WHERE d.dictnamespace = 'backup'::regnamespace
) o
WHERE owner <> {owner}
ORDER BY ord, what
"""


class ForeignOwner(RuntimeError):
    """Schema backup, or objects in it, belong to another role than the installer."""


def foreign_owned(conn: psycopg.Connection, owner: str = "current_user::regrole") -> list[tuple[str, str]]:
    """Schema backup and the objects in it that another role than `owner` (an SQL expression: the
    current role, or the schema's owner) owns."""
    if conn.execute("SELECT to_regnamespace('backup') IS NULL").fetchone()[0]:  # type: ignore[index]
        return []
    return [(r[0], r[1]) for r in conn.execute(FOREIGN_OWNED.format(owner=owner)).fetchall()]


def alter_owner(what: str, new_owner: str) -> str:
    """The statement that gives `what` (as foreign_owned words it: 'function backup.f(text)') to
    `new_owner` (an SQL role expression)."""
    words = what.split(" ")
    split = (
        3 if what.startswith("text search ") else 2 if what.startswith(("materialized view ", "foreign table ")) else 1
    )
    kind, name = " ".join(words[:split]), " ".join(words[split:])
    return f"ALTER {kind.upper()} {name} OWNER TO {new_owner}"


def _refuse_foreign(conn: psycopg.Connection, found: list[tuple[str, str]]) -> ForeignOwner:
    me = conn.execute("SELECT current_user::text").fetchone()[0]  # type: ignore[index]
    shown = "; ".join(f"{what} (owned by {owner})" for what, owner in found[:5])
    more = f"; and {len(found) - 5} more" if len(found) > 5 else ""
    return ForeignOwner(
        f"refusing to install: {shown}{more}, not by {me}, who would own the backup schema. Another role's "
        "objects there could run its code with your rights. Check them, then run `backup-tui install "
        f"--take-ownership` to make {me} their owner; nothing was changed"
    )


def _take_ownership(conn: psycopg.Connection, found: list[tuple[str, str]]) -> list[str]:
    """ALTER ... OWNER TO the installer, for each of `found`; the statements run."""
    done = []
    for what, _ in found:
        statement = alter_owner(what, "CURRENT_USER")
        try:
            conn.execute(statement)  # names as PostgreSQL quoted them (reg* text)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ForeignOwner(
                f"cannot take over {what}: {exc.diag.message_primary} (only a superuser, or a member of its "
                "owner, can); nothing was changed"
            ) from exc
        done.append(statement)
    return done


MINIMUM_SERVER = 140000  # PostgreSQL 14: CREATE OR REPLACE TRIGGER, client_connection_check_interval


def refuse_old_server(version_num: int) -> None:
    """One line, before anything is changed, for a server older than the minimum."""
    if version_num < MINIMUM_SERVER:
        major = (
            str(version_num // 10000) if version_num >= 100000 else f"{version_num // 10000}.{version_num // 100 % 100}"
        )
        raise RuntimeError(
            f"PostgreSQL {major} is too old: backup-tui needs PostgreSQL 14 or later (nothing was installed)"
        )


def install(conn: psycopg.Connection, take_ownership: bool = False) -> InstallReport:
    """Run pending migrations, then re-apply changed definitions, all in one transaction.

    Idempotent: on an up-to-date database it changes nothing. A refusal inside a file (duplicate
    backup names in a legacy table) rolls everything back, and so does a schema or object in it
    that another role owns (ForeignOwner), unless `take_ownership`.
    """
    refuse_old_server(conn.info.server_version)
    with conn.transaction():
        # Two installers at once would race on DDL; the second waits here, then finds nothing to do.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('backup-tui install'))")
        before = schema_state(conn)
        if before is SchemaState.NEWER:
            raise RuntimeError(
                "the backup schema was installed by a newer backup-tui: this version never downgrades it"
            )
        found = foreign_owned(conn)
        if found and not take_ownership:
            raise _refuse_foreign(conn, found)
        taken = _take_ownership(conn, found)
        todo, _ = pending(conn)
        for migration in todo:
            conn.execute(migration.sql)  # a trusted file of several statements
            conn.execute(
                "INSERT INTO backup.schema_version (version, name) VALUES (%s, %s)", (migration.version, migration.name)
            )
        # Objects another role owned may have been changed by it: every definition is applied again.
        due = list(definitions()) if taken else pending(conn)[1]
        saved = _saved_grants(conn) if due else []
        for definition in due:
            conn.execute(definition.sql)
            conn.execute(
                "INSERT INTO backup.schema_definitions (name, sha256, tool) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, tool = excluded.tool, "
                "applied_at = now(), applied_by = session_user",
                (definition.name, definition.sha256, __version__),
            )
        if due:
            _restore_grants(conn, saved)
        changed = bool(todo or due or taken)
        revoked = [r[0] for r in conn.execute("SELECT backup.enforce_privileges(%s::boolean)", (changed,))]
        # A backup taken over was its maker's table (0.2's operators made their own): the maker,
        # like every operator, reads the backups whose source it may read.
        for owner in sorted({holder for what, holder in found if what.startswith("table ")}):
            conn.execute(
                "SELECT backup.share_backups(%s::text) WHERE has_function_privilege(%s::text, "
                "'backup.drop_table_backup(text)', 'EXECUTE')",
                (owner, owner),
            )
    return InstallReport(before, tuple(m.label for m in todo), tuple(d.name for d in due), tuple(taken), tuple(revoked))
