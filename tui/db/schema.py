"""Installing and upgrading the backup schema from the numbered files in sql/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

from tui.model import SchemaState

_FILE = re.compile(r"^(\d{3})_(.+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def _sql_dir() -> Path:
    """sql/ inside the installed package (wheel), else beside it in a source checkout (editable)."""
    packaged = resources.files("tui") / "sql"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "sql"


def migrations() -> list[Migration]:
    """The schema's files in the order they apply."""
    found = []
    for path in sorted(_sql_dir().iterdir()):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    if not found:
        raise RuntimeError(f"no schema files found in {_sql_dir()}")
    return found


def latest_version() -> int:
    return migrations()[-1].version


def installed_version(conn: psycopg.Connection) -> int | None:
    """The newest applied schema file, or None when backup-tui never installed here."""
    row = conn.execute("SELECT to_regclass('backup.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    row = conn.execute("SELECT max(version) FROM backup.schema_version").fetchone()
    return row[0] if row else None


def schema_state(conn: psycopg.Connection) -> SchemaState:
    """Absent, legacy (2025 layout), outdated or current."""
    row = conn.execute("SELECT to_regclass('backup.backup_metadata') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return SchemaState.ABSENT
    version = installed_version(conn)
    if version is None:
        return SchemaState.LEGACY
    return SchemaState.CURRENT if version >= latest_version() else SchemaState.OUTDATED


def install(conn: psycopg.Connection) -> list[str]:
    """Apply the schema files not yet applied, all in one transaction; return their names.

    Idempotent: a second run applies nothing. A refusal inside a file (duplicate backup
    names in a legacy table) rolls everything back.
    """
    applied: list[str] = []
    with conn.transaction():
        # Two installers at once would race on DDL; the second waits here, then finds nothing to do.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('backup-tui install'))")
        current = installed_version(conn) or 0
        for migration in migrations():
            if migration.version <= current:
                continue
            conn.execute(migration.sql)  # type: ignore[arg-type]  # trusted file, several statements
            conn.execute(
                "INSERT INTO backup.schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(f"{migration.version:03d}_{migration.name}")
    return applied


_EXPOSED = """
SELECT r.rolname, 'USAGE on schema backup'
  FROM pg_roles r WHERE r.rolname IN ('anon', 'authenticated')
   AND has_schema_privilege(r.oid, 'backup', 'USAGE')
UNION ALL
SELECT 'PUBLIC', 'USAGE on schema backup'
  FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE n.nspname = 'backup' AND a.grantee = 0 AND a.privilege_type = 'USAGE'
"""


def exposure_warnings(conn: psycopg.Connection) -> list[str]:
    """Grants that let anon/authenticated/PUBLIC reach the backups (install never widens them)."""
    rows = conn.execute(_EXPOSED).fetchall()
    return [f"{role} has {what}: backups may be readable without row-level security" for role, what in rows]
