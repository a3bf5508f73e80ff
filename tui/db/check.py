"""Integrity and exposure report. Read-only catalog queries; the integrity part works on a legacy
layout too (a reviewer may have no DDL rights, and the 2025 layout has no functions to call).

Exposure covers, for the objects this tool creates, the lints Supabase's splinter applies to such
objects: function_search_path_mutable, security_definer_view, rls_disabled_in_public (for tables
we restored) and {anon,authenticated}_security_definer_function_executable, plus grants that reach
the backups and PostgREST exposing schema backup.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import psycopg
from psycopg import sql

from tui import format as fmt
from tui.db import schedules
from tui.db.errors import DatabaseError, ErrorKind
from tui.model import Category, Finding, SchemaState

# The 2025 layout's only table of its own; an upgraded schema says which are its own itself.
_LEGACY_INTERNAL = ("backup_metadata",)
DEFAULT_ROLES = ("anon", "authenticated", "PUBLIC")
FIX_EXPOSURE = "SELECT * FROM backup.revoke_exposure();"

_TABLES = """
SELECT c.oid, c.relname::text, c.reltuples, has_table_privilege(c.oid, 'SELECT')
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

# Our objects: everything in schema backup, and the two public wrappers.
_OURS = """
    (p.pronamespace = 'backup'::regnamespace OR p.oid = to_regprocedure('public.get_backup_tables()'))
"""

# Privileges that reach the backups: on the schema, its tables and views, its functions, the wrappers.
_EXPOSURE = f"""
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
SELECT g.name, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, c.oid::regclass::text,
       a.privilege_type,
       format('REVOKE %%s ON %%s FROM %%s;', a.privilege_type, c.oid::regclass,
              CASE WHEN g.name = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.name) END)
  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a, grantees g
 WHERE (c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        OR c.oid = to_regclass('public.backup_inventory_view'))
   AND a.grantee = g.oid
UNION ALL
SELECT g.name, 'function', format('%%s.%%I(%%s)', p.pronamespace::regnamespace, p.proname,
                                  pg_get_function_identity_arguments(p.oid)),
       a.privilege_type,
       format('REVOKE EXECUTE ON %%s %%s.%%I(%%s) FROM %%s;',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.pronamespace::regnamespace, p.proname,
              pg_get_function_identity_arguments(p.oid),
              CASE WHEN g.name = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.name) END)
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a, grantees g
 WHERE {_OURS} AND a.grantee = g.oid
 ORDER BY 1, 2, 3, 4
"""

# PostgREST's exposed schemas, as set for this database (or for every database).
_POSTGREST = """
SELECT coalesce(r.rolname, 'database'), s.setting
  FROM pg_db_role_setting d
  LEFT JOIN pg_roles r ON r.oid = d.setrole
  CROSS JOIN LATERAL unnest(d.setconfig) s(setting)
 WHERE s.setting LIKE 'pgrst.db_schemas=%'
   AND d.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
"""

# splinter 0011 function_search_path_mutable, for our functions. backup.apply_prune and
# backup.run_due_backups are the exceptions, and necessarily: a procedure that commits cannot carry
# a SET clause, so their bodies name only schema-qualified functions and types
# (tests/sql/test_search_path.py plants look-alikes of everything and calls them with a hostile path).
_SEARCH_PATH = f"""
SELECT format('%s.%I(%s)', p.pronamespace::regnamespace, p.proname, pg_get_function_identity_arguments(p.oid)),
       format('ALTER %s %s.%I(%s) SET search_path = pg_catalog, pg_temp;',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.pronamespace::regnamespace,
              p.proname, pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p
 WHERE {_OURS}
   AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{{}}')) c WHERE c LIKE 'search_path=%')
   AND p.oid IS DISTINCT FROM to_regprocedure('backup.apply_prune(integer, boolean)')
   AND p.oid IS DISTINCT FROM to_regprocedure('backup.run_due_backups(timestamp with time zone)')
"""

# splinter 0028/0029 {anon,authenticated}_security_definer_function_executable, for our functions.
_DEFINER_EXPOSED = f"""
SELECT r.rolname, format('%s.%I(%s)', p.pronamespace::regnamespace, p.proname,
                         pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p CROSS JOIN pg_roles r
 WHERE {_OURS} AND p.prosecdef AND r.rolname IN ('anon', 'authenticated')
   AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
"""

# splinter 0010 security_definer_view: our views readable by anon/authenticated without security_invoker.
_DEFINER_VIEWS = """
SELECT c.oid::regclass::text
  FROM pg_class c
 WHERE c.relkind = 'v'
   AND (c.relnamespace = 'backup'::regnamespace OR c.oid = to_regclass('public.backup_inventory_view'))
   AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname IN ('anon', 'authenticated')
                AND has_table_privilege(r.oid, c.oid, 'SELECT'))
   AND NOT (lower(coalesce(c.reloptions::text, '{}'))::text[]
            && ARRAY['security_invoker=1', 'security_invoker=true', 'security_invoker=yes', 'security_invoker=on'])
"""

# Tables restore made (audited) that anon/authenticated/PUBLIC can read, or that sit in public
# without row-level security where Supabase's roles would be served it (splinter 0013
# rls_disabled_in_public).
_RESTORED = """
SELECT DISTINCT t.oid::regclass::text,
       array_remove(ARRAY[
           CASE WHEN has_table_privilege('public', t.oid, 'SELECT') THEN 'PUBLIC' END,
           CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'anon'
                              AND has_table_privilege(r.oid, t.oid, 'SELECT')) THEN 'anon' END,
           CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'authenticated'
                              AND has_table_privilege(r.oid, t.oid, 'SELECT')) THEN 'authenticated' END], NULL),
       t.relnamespace = 'public'::regnamespace AND NOT t.relrowsecurity
       AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname IN ('anon', 'authenticated'))
  FROM backup.backup_audit a
  JOIN pg_class t ON t.oid = to_regclass(a.detail->>'restored_as')
 WHERE a.action = 'restore'
"""


def run_check(
    conn: psycopg.Connection, state: SchemaState, *, fast: bool = False, roles: Sequence[str] = ()
) -> list[Finding]:
    """Every finding, in the order of Category."""
    if state is SchemaState.ABSENT:
        return [
            Finding(
                Category.NOT_INSTALLED,
                "backup",
                "there is no backup schema in this database: nothing to check",
                "backup-tui install",
            )
        ]
    _require_roles(conn, roles)
    upgraded = state.upgraded
    internal = _internal_tables(conn) if upgraded else list(_LEGACY_INTERNAL)
    tables = {name: (oid, reltuples, readable) for oid, name, reltuples, readable in conn.execute(_TABLES, (internal,))}
    meta = conn.execute(
        "SELECT backup_table_name::text, row_count::bigint, "
        + ("archive_location IS NOT NULL" if upgraded else "false")
        + " FROM backup.backup_metadata ORDER BY 1"
    ).fetchall()
    registered = {name for name, _, _ in meta}
    findings: list[Finding] = []

    for name, _, archived in meta:
        if name not in tables and not archived:
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
                    f"backup-tui adopt {shlex.quote(name)}",
                )
            )
    locked = dict(conn.execute("SELECT relid, pid FROM backup.locked_relations()").fetchall()) if upgraded else {}
    for name, recorded, _ in meta:
        if name not in tables or recorded is None:
            continue
        findings.extend(_drift(conn, name, recorded, *tables[name], fast=fast, locked_by=locked))
    if upgraded:  # the 2025 layout has no backup.dependants (after install, it does)
        for name, dependant in conn.execute(_DEPENDANTS):
            findings.append(
                Finding(Category.DEPENDANTS, name, f"{dependant} depends on it: drop refuses until it goes", "")
            )
        findings.extend(_archives(conn))
    findings.extend(_exposure(conn, roles, upgraded))
    if upgraded:
        findings.extend(_schedules(conn))
    return findings


def _drift(
    conn: psycopg.Connection,
    name: str,
    recorded: int,
    oid: int,
    reltuples: float,
    readable: bool,
    *,
    fast: bool,
    locked_by: dict[int, int | None],
) -> list[Finding]:
    """Recorded against actual rows: counted (exact) unless fast, or the table is locked elsewhere
    (a count would queue behind the lock) or not readable by this role (a reviewer)."""
    why_estimated = ""
    if oid in locked_by:
        why_estimated = f" (estimated: locked by pid {locked_by[oid]})"
    elif not readable and not fast:
        why_estimated = " (estimated: counting needs SELECT on the backup)"
    if fast or why_estimated:
        if reltuples < 0:
            return []
        actual = int(reltuples)
        # Estimates are estimates: only a clear difference counts.
        if abs(actual - recorded) <= max(10, recorded // 10):
            return []
        how = "estimated"
    else:
        row = conn.execute(sql.SQL("SELECT count(*) FROM backup.{}").format(sql.Identifier(name))).fetchone()
        assert row is not None
        actual = row[0]
        if actual == recorded:
            return []
        how = "actual"
    return [
        Finding(
            Category.DRIFT,
            name,
            f"recorded {recorded:,} rows, {how} {actual:,}{why_estimated}",
            f"UPDATE backup.backup_metadata SET row_count = {actual} "
            f"WHERE backup_table_name = {_literal(conn, name)};  -- once the change is understood",
        )
    ]


def _schedules(conn: psycopg.Connection) -> list[Finding]:
    """Schedules whose last run failed or that are overdue by more than a period, and our pg_cron
    jobs whose runs failed in the last day."""
    if conn.execute("SELECT to_regclass('backup.backup_schedule') IS NULL").fetchone()[0]:  # type: ignore[index]
        return []  # installed before schedules existed
    findings = []
    for s in schedules.list_schedules(conn):
        subject = f"schedule {s.id} ({s.source} {s.backup_kind}, {s.words})"
        if s.failed:
            when = fmt.date(s.last_attempt_at)
            findings.append(
                Finding(
                    Category.SCHEDULE,
                    subject,
                    f"its last run ({when} UTC) failed: {s.last_error}",
                    f"backup-tui schedule run {s.id}  # once the cause is fixed; or: backup-tui schedule pause {s.id}",
                )
            )
        elif s.overdue:
            findings.append(
                Finding(
                    Category.SCHEDULE,
                    subject,
                    f"overdue: due since {fmt.date(s.due_since)} UTC and nothing ran it "
                    "(is pg_cron's job, or the system cron line for `backup-tui run-due`, running?)",
                    "backup-tui schedule list  # shows the pg_cron jobs and their last runs",
                )
            )
    state = schedules.cron_state(conn)
    if state.here:
        for job in schedules.cron_jobs(conn):
            failed = conn.execute(
                "SELECT count(*), max(start_time), (array_agg(return_message ORDER BY start_time DESC))[1] "
                "FROM cron.job_run_details WHERE jobid = %s AND status = 'failed' "
                "AND start_time > now() - interval '1 day'",
                (job.jobid,),
            ).fetchone()
            if failed and failed[0]:
                findings.append(
                    Finding(
                        Category.SCHEDULE,
                        f"pg_cron job {job.jobname!r}",
                        f"{failed[0]} run(s) failed in the last day, the last at {fmt.date(failed[1])} UTC: "
                        f"{failed[2]}",
                        f"SELECT * FROM cron.job_run_details WHERE jobid = {job.jobid} "
                        "ORDER BY start_time DESC LIMIT 5;",
                    )
                )
    return findings


def _archives(conn: psycopg.Connection) -> list[Finding]:
    """Archives that `verify` last found damaged or unreadable (an archive counts as verified when
    it is written; `backup-tui verify --all` re-reads them all)."""
    has_columns = conn.execute(
        "SELECT count(*) = 2 FROM pg_attribute WHERE attrelid = 'backup.backup_metadata'::regclass "
        "AND attname IN ('verify_result', 'verify_detail') AND NOT attisdropped"
    ).fetchone()
    if not has_columns or not has_columns[0]:
        return []  # a schema installed before 0.2: nothing recorded yet
    rows = conn.execute(
        "SELECT backup_table_name, archive_location, verify_result, verify_detail, verified_at "
        "FROM backup.backup_metadata WHERE archive_location IS NOT NULL AND verify_result IN ('damaged', 'unreadable') "
        "ORDER BY 1"
    )
    return [
        Finding(
            Category.ARCHIVE,
            name,
            f"archive at {location} was {result} when verified ({fmt.date(at)} UTC): {detail}",
            f"backup-tui verify {shlex.quote(name)}  # once the archive is repaired or replaced",
        )
        for name, location, result, detail, at in rows
    ]


def _exposure(conn: psycopg.Connection, roles: Sequence[str], upgraded: bool) -> list[Finding]:
    findings: list[Finding] = []
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
    for function, fix in conn.execute(_SEARCH_PATH):
        findings.append(
            Finding(Category.SEARCH_PATH, function, "function_search_path_mutable: no fixed search_path", fix)
        )
    for role, function in conn.execute(_DEFINER_EXPOSED):
        findings.append(
            Finding(
                Category.DEFINER,
                function,
                f"{role}_security_definer_function_executable: {role} may run it with its owner's rights",
                f"REVOKE EXECUTE ON FUNCTION {function} FROM {role};",
            )
        )
    for view in conn.execute(_DEFINER_VIEWS).fetchall():
        findings.append(
            Finding(
                Category.DEFINER,
                view[0],
                "security_definer_view: anon/authenticated read it with its owner's rights",
                f"ALTER VIEW {view[0]} SET (security_invoker = true);",
            )
        )
    if upgraded:
        for table, readers, no_rls in conn.execute(_RESTORED):
            if readers:
                findings.append(
                    Finding(
                        Category.RESTORED,
                        table,
                        f"restored by backup-tui and readable by {', '.join(readers)}",
                        f"REVOKE ALL ON {table} FROM {', '.join(readers)};",
                    )
                )
            if no_rls:
                findings.append(
                    Finding(
                        Category.RESTORED,
                        table,
                        "rls_disabled_in_public: restored into public without row-level security",
                        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;  -- then write its policies",
                    )
                )
    return findings


def exposure(conn: psycopg.Connection) -> list[Finding]:
    """What reaches the backups from anon, authenticated or PUBLIC (after install: `install` says it)."""
    return [f for f in _exposure(conn, (), upgraded=True) if f.category is Category.EXPOSURE]


def role_grants(conn: psycopg.Connection, role: str, level: str) -> list[str]:
    """The statements that give `role` what a reviewer or an operator needs (backup.role_grants)."""
    return [r[0] for r in conn.execute("SELECT backup.role_grants(%s, %s)", (role, level))]


def grant_role(conn: psycopg.Connection, role: str, level: str) -> list[str]:
    """Run them (backup.grant_role); the statements run."""
    return [r[0] for r in conn.execute("SELECT backup.grant_role(%s, %s)", (role, level))]


def revoke_exposure(conn: psycopg.Connection) -> list[str]:
    """Take back every privilege that reaches the backups from anon/authenticated/PUBLIC."""
    return [r[0] for r in conn.execute("SELECT backup.revoke_exposure()")]


def _require_roles(conn: psycopg.Connection, roles: Sequence[str]) -> None:
    known = {r[0] for r in conn.execute("SELECT rolname::text FROM pg_roles WHERE rolname = ANY(%s)", (list(roles),))}
    unknown = [r for r in roles if r not in known and r != "PUBLIC"]
    if unknown:
        raise DatabaseError(f"no role named {', '.join(unknown)} in this cluster", ErrorKind.INVALID)


def _internal_tables(conn: psycopg.Connection) -> list[str]:
    row = conn.execute("SELECT backup.internal_tables()").fetchone()
    assert row is not None
    return row[0]


def _literal(conn: psycopg.Connection, value: str) -> str:
    return sql.Literal(value).as_string(conn)
