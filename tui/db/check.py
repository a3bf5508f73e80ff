"""Integrity and exposure report. Read-only catalog queries that work on a legacy layout too
(a reviewer may have no DDL rights, and the 2025 layout has no functions to call)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import psycopg
from psycopg import sql

from tui.model import Category, Finding, SchemaState

# The 2025 layout's only table of its own; an upgraded schema says which are its own itself.
_LEGACY_INTERNAL = ("backup_metadata",)

_TABLES = """
SELECT c.oid, c.relname::text, c.reltuples
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'backup' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relname <> ALL (%s)
"""

_DEPENDANTS = """
SELECT c.relname::text, d.dependant
  FROM backup.dependants(ARRAY(SELECT c.oid FROM pg_class c
                                WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p')
                                  AND c.relname <> ALL (backup.internal_tables()))) d
  JOIN pg_class c ON c.oid = d.table_oid
 ORDER BY 1, 2
"""

# Privileges that reach the backups: on the schema, its tables and views, its functions.
_EXPOSURE = """
WITH roles(name) AS (SELECT unnest(%s::text[])),
grantees AS (
    SELECT r.name, CASE WHEN r.name = 'PUBLIC' THEN 0::oid ELSE p.oid END AS oid
      FROM roles r LEFT JOIN pg_roles p ON p.rolname = r.name
     WHERE r.name = 'PUBLIC' OR p.oid IS NOT NULL
)
SELECT g.name, 'schema', 'backup', a.privilege_type,
       format('REVOKE %%s ON SCHEMA backup FROM %%s;', a.privilege_type,
              CASE WHEN g.name = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.name) END)
  FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a, grantees g
 WHERE n.nspname = 'backup' AND a.grantee = g.oid
UNION ALL
SELECT g.name, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, format('backup.%%I', c.relname),
       a.privilege_type,
       format('REVOKE %%s ON backup.%%I FROM %%s;', a.privilege_type, c.relname,
              CASE WHEN g.name = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.name) END)
  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a, grantees g
 WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND a.grantee = g.oid
UNION ALL
SELECT g.name, 'function', format('backup.%%I(%%s)', p.proname, pg_get_function_identity_arguments(p.oid)),
       a.privilege_type,
       format('REVOKE EXECUTE ON %%s backup.%%I(%%s) FROM %%s;',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.proname,
              pg_get_function_identity_arguments(p.oid),
              CASE WHEN g.name = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.name) END)
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a, grantees g
 WHERE p.pronamespace = 'backup'::regnamespace AND a.grantee = g.oid
 ORDER BY 1, 2, 3, 4
"""

_POSTGREST = """
SELECT coalesce(r.rolname, 'database'), s.setting
  FROM pg_db_role_setting d
  LEFT JOIN pg_roles r ON r.oid = d.setrole
  CROSS JOIN LATERAL unnest(d.setconfig) s(setting)
 WHERE s.setting LIKE 'pgrst.db_schemas=%'
"""

_DEFINERS = """
SELECT format('backup.%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid)),
       format('ALTER FUNCTION backup.%I(%s) SET search_path = pg_catalog, pg_temp;', p.proname,
              pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p
 WHERE p.pronamespace = 'backup'::regnamespace AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
"""

DEFAULT_ROLES = ("anon", "authenticated", "PUBLIC")


def run_check(
    conn: psycopg.Connection, state: SchemaState, *, fast: bool = False, roles: Sequence[str] = ()
) -> list[Finding]:
    """Every finding, grouped by category: missing, unregistered, drift, dependants, exposure, definer."""
    if state is SchemaState.ABSENT:
        return []
    upgraded = state.upgraded
    internal = _internal_tables(conn) if upgraded else list(_LEGACY_INTERNAL)
    tables = {name: (oid, reltuples) for oid, name, reltuples in conn.execute(_TABLES, (internal,))}
    meta = conn.execute(
        "SELECT backup_table_name::text, row_count::bigint FROM backup.backup_metadata ORDER BY 1"
    ).fetchall()
    registered = {name for name, _ in meta}
    findings: list[Finding] = []

    for name, _ in meta:
        if name not in tables:
            fix = (
                f"SELECT backup.drop_table_backup({_literal(conn, name)});"
                if upgraded
                else f"DELETE FROM backup.backup_metadata WHERE backup_table_name = {_literal(conn, name)};"
            )
            findings.append(Finding(Category.MISSING, name, "metadata row whose table is gone", fix))
    for name in sorted(tables):
        if name not in registered:
            findings.append(
                Finding(
                    Category.UNREGISTERED,
                    name,
                    "table in schema backup without a metadata row",
                    f"backup-tui adopt {_shell(name)}",
                )
            )
    for name, recorded in meta:
        if name not in tables or recorded is None:
            continue
        oid, reltuples = tables[name]
        if fast:
            if reltuples < 0:
                continue
            actual = int(reltuples)
            # Estimates are estimates: only a clear difference counts.
            if abs(actual - recorded) <= max(10, recorded // 10):
                continue
            how = "estimated"
        else:
            actual = conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name))).fetchone()[0]
            if actual == recorded:
                continue
            how = "actual"
        findings.append(
            Finding(
                Category.DRIFT,
                name,
                f"recorded {recorded:,} rows, {how} {actual:,}",
                f"UPDATE backup.backup_metadata SET row_count = {actual} "
                f"WHERE backup_table_name = {_literal(conn, name)};  -- once the change is understood",
            )
        )
    if upgraded:  # the 2025 layout has no backup.dependants (after install, it does)
        for name, dependant in conn.execute(_DEPENDANTS):
            findings.append(
                Finding(Category.DEPENDANTS, name, f"{dependant} depends on it: drop refuses until it goes", "")
            )
    wanted = list(dict.fromkeys([*DEFAULT_ROLES, *roles]))
    for role, kind, obj, privilege, fix in conn.execute(_EXPOSURE, (wanted,)):
        findings.append(Finding(Category.EXPOSURE, obj, f"{role} has {privilege} on {kind} {obj}", fix))
    for holder, setting in conn.execute(_POSTGREST):
        schemas = [s.strip() for s in setting.split("=", 1)[1].split(",")]
        if "backup" in schemas:
            findings.append(
                Finding(
                    Category.EXPOSURE,
                    "PostgREST",
                    f"schema backup is exposed by PostgREST ({holder}: {setting})",
                    "remove backup from the exposed schemas (Supabase: API settings)",
                )
            )
    for function, fix in conn.execute(_DEFINERS):
        findings.append(Finding(Category.DEFINER, function, "SECURITY DEFINER without a fixed search_path", fix))
    return findings


def _internal_tables(conn: psycopg.Connection) -> list[str]:
    row = conn.execute("SELECT backup.internal_tables()").fetchone()
    assert row is not None
    return row[0]


def _literal(conn: psycopg.Connection, value: str) -> str:
    return sql.Literal(value).as_string(conn)


def _shell(value: str) -> str:
    return shlex.quote(value)
