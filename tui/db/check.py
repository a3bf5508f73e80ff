"""Integrity and exposure report. Read-only catalog queries; the integrity part works on a legacy
layout too (a reviewer may have no DDL rights, and the 2025 layout has no functions to call).

Exposure covers, for the objects this tool creates, the lints Supabase's splinter applies to such
objects: function_search_path_mutable, security_definer_view, rls_disabled_in_public (for tables
we restored) and {anon,authenticated}_security_definer_function_executable, plus grants that reach
the backups and PostgREST exposing schema backup.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from tui import format as fmt
from tui.db import schedules, schema
from tui.db.errors import DatabaseError, ErrorKind
from tui.model import Category, Finding, Schedule, SchemaState

# The 2025 layout's only table of its own; an upgraded schema says which are its own itself.
_LEGACY_INTERNAL = ("backup_metadata",)
DEFAULT_ROLES = ("anon", "authenticated", "PUBLIC")
FIX_EXPOSURE = "SELECT * FROM backup.revoke_exposure();"

# Each table in schema backup, its estimate, and why its rows may not be counted here (NULL: they
# may): counting runs the table's row-level security policies with the caller's rights, so only a
# table the schema's owner owns is counted, and only where no policy would hide rows.
_TABLES = """
SELECT c.oid, c.relname::text, c.reltuples,
       CASE WHEN c.relowner <> n.nspowner THEN format('owned by %%s, not by the schema''s owner', c.relowner::regrole)
            WHEN NOT has_table_privilege(c.oid, 'SELECT') THEN 'counting needs SELECT on the backup'
            WHEN c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls
                                           OR (c.relowner = r.oid AND NOT c.relforcerowsecurity))
            THEN 'row-level security hides its rows from you' END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_roles r ON r.rolname = current_user
 WHERE n.nspname = 'backup' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relname <> ALL ({internal})
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

# Default privileges that hand new objects in schema backup to the exposed roles: set for schema
# backup, or global ones (no IN SCHEMA) of the schema's owner, which reach every table it creates.
# backup.revoke_exposure takes them back (PUBLIC's EXECUTE on functions and USAGE on types are
# PostgreSQL's own defaults, not counted: install revokes those on ours).
_DEFAULTS = """
WITH roles(name) AS (SELECT unnest(%s::text[])),
grantees AS (
    SELECT r.name, CASE WHEN r.name = 'PUBLIC' THEN 0::oid ELSE p.oid END AS oid
      FROM roles r LEFT JOIN pg_roles p ON p.rolname = r.name
     WHERE r.name = 'PUBLIC' OR p.oid IS NOT NULL
)
SELECT g.name, d.defaclrole::regrole::text, d.defaclnamespace <> 0,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                            WHEN 'T' THEN 'types' END,
       string_agg(DISTINCT a.privilege_type, ', ')
  FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a JOIN grantees g ON g.oid = a.grantee
 WHERE d.defaclobjtype IN ('r', 'S', 'f', 'T')
   AND (d.defaclnamespace = to_regnamespace('backup')
        OR (d.defaclnamespace = 0
            AND d.defaclrole = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'backup')
            AND (d.defaclobjtype IN ('r', 'S') OR g.name <> 'PUBLIC')))
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4
"""

# Roles the exposed roles inherit (GRANT web TO anon) that hold privileges on the backups: through
# them anon reads what was never granted to it. Each with the membership that passes them on.
_INHERITED = """
WITH exposed AS (SELECT r.oid, r.rolname FROM pg_roles r WHERE r.rolname = ANY(%s::text[])),
holders(oid, what) AS (
    SELECT a.grantee, format('%%s on schema backup', a.privilege_type)
      FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'backup'
    UNION ALL
    SELECT n.nspowner, 'ownership of schema backup' FROM pg_namespace n WHERE n.nspname = 'backup'
    UNION ALL
    SELECT a.grantee, format('%%s on %%s', a.privilege_type, c.oid::regclass)
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.relnamespace = to_regnamespace('backup') OR c.oid = to_regclass('public.backup_inventory_view')
    UNION ALL
    SELECT a.grantee, format('EXECUTE on %%s', p.oid::regprocedure)
      FROM pg_proc p, aclexplode(p.proacl) a
     WHERE a.privilege_type = 'EXECUTE'
       AND (p.pronamespace = to_regnamespace('backup') OR p.oid = to_regprocedure('public.get_backup_tables()'))
)
SELECT e.rolname::text, h.oid::regrole::text, min(h.what), count(*),
       (SELECT string_agg(format('REVOKE %%s FROM %%s;', m.roleid::regrole, m.member::regrole), ' ' ORDER BY 1)
          FROM pg_auth_members m
         WHERE m.member = e.oid AND pg_has_role(m.roleid, h.oid, 'USAGE'))
  FROM exposed e JOIN holders h ON h.oid NOT IN (0, e.oid) AND pg_has_role(e.oid, h.oid, 'USAGE')
 GROUP BY e.rolname, e.oid, h.oid
 ORDER BY 1, 2
"""

# Views and materialized views outside schema backup that read our tables with their owner's rights
# (no security_invoker: splinter's security_definer_view), readable by the exposed roles.
_VIEWS_OVER = """
SELECT v.oid::regclass::text, v.relkind::text,
       array_remove(ARRAY[
           CASE WHEN has_table_privilege('public', v.oid, 'SELECT') THEN 'PUBLIC' END,
           CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'anon'
                              AND has_table_privilege(r.oid, v.oid, 'SELECT')) THEN 'anon' END,
           CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'authenticated'
                              AND has_table_privilege(r.oid, v.oid, 'SELECT')) THEN 'authenticated' END], NULL),
       string_agg(DISTINCT t.oid::regclass::text, ', ')
  FROM pg_class v
  JOIN pg_rewrite rw ON rw.ev_class = v.oid
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
 WHERE v.relkind IN ('v', 'm') AND v.relnamespace <> to_regnamespace('backup')
   AND v.oid IS DISTINCT FROM to_regclass('public.backup_inventory_view')
   AND (t.relnamespace = to_regnamespace('backup') OR t.oid = to_regclass('public.backup_inventory_view'))
   AND NOT (v.relkind = 'v' AND lower(coalesce(v.reloptions::text, '{}'))::text[]
            && ARRAY['security_invoker=1', 'security_invoker=true', 'security_invoker=yes', 'security_invoker=on'])
 GROUP BY v.oid
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
  -- Evidence, not a name: backup.record_restore writes the oid of a table its own transaction
  -- created; an audit row without one (0.2's, or one written by hand) names nothing.
  JOIN pg_class t ON t.oid = (a.detail->>'restored_oid')::oid
 WHERE a.action = 'restore' AND a.detail ? 'restored_oid'
"""


# Objects in schema backup that backup-tui does not make (a function, operator, type, view, policy,
# trigger: what an attacker with CREATE there, or with the owner's rights, would plant), rights
# outside the role model (CREATE on the schema, writes to its tables, acting as its owner), as
# (subject, detail, fix). Objects another role owns come from schema.FOREIGN_OWNED.
_NOT_OURS = """
WITH owner AS (SELECT n.nspowner AS oid FROM pg_namespace n WHERE n.nspname = 'backup')
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
       || p.oid::regprocedure::text,
       'not part of backup-tui: its calls never resolve to it, but anyone who calls it runs its owner''s code',
       format('DROP %s %s;  -- once you know who made it, and why',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
              p.oid::regprocedure)
  FROM pg_proc p
 WHERE p.pronamespace = 'backup'::regnamespace
   AND format('backup.%s(%s)', p.proname, replace(oidvectortypes(p.proargtypes), ', ', ','))
       NOT IN (SELECT l.routine FROM backup.routine_levels() l)
UNION ALL
SELECT 'operator ' || o.oid::regoperator::text, 'not part of backup-tui',
       format('DROP OPERATOR %s;', o.oid::regoperator)
  FROM pg_operator o WHERE o.oprnamespace = 'backup'::regnamespace
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.oid::regtype::text, 'not part of backup-tui',
       format('DROP %s %s;', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype)
  FROM pg_type t
 WHERE t.typnamespace = 'backup'::regnamespace AND t.typrelid = 0 AND t.typtype <> 'm'
   AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'f' THEN 'foreign table '
                      WHEN 'S' THEN 'sequence ' ELSE 'type ' END || c.oid::regclass::text,
       'not part of backup-tui',
       format('DROP %s %s;', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                            WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TYPE' END,
              c.oid::regclass)
  FROM pg_class c
 WHERE c.relnamespace = 'backup'::regnamespace
   AND ((c.relkind = 'v' AND c.relname NOT IN ('backup_inventory', 'backup_entries'))
        OR c.relkind IN ('m', 'f')
        OR (c.relkind = 'c' AND c.relname NOT IN ('prune_run', 'cron_spec'))
        OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                              AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))
UNION ALL
SELECT 'collation ' || c.oid::regcollation::text, 'not part of backup-tui',
       format('DROP COLLATION %s;', c.oid::regcollation)
  FROM pg_collation c WHERE c.collnamespace = 'backup'::regnamespace
UNION ALL
SELECT 'statistics backup.' || quote_ident(x.stxname), 'not part of backup-tui',
       format('DROP STATISTICS backup.%I;', x.stxname)
  FROM pg_statistic_ext x WHERE x.stxnamespace = 'backup'::regnamespace
UNION ALL
SELECT format('policy %I on %s', p.polname, p.polrelid::regclass),
       'a row-level security policy in schema backup (backup-tui makes none): it runs for whoever reads the table',
       format('DROP POLICY %I ON %s;', p.polname, p.polrelid::regclass)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = 'backup'::regnamespace
UNION ALL
SELECT format('trigger %I on %s', t.tgname, t.tgrelid::regclass),
       format('a trigger in schema backup (backup-tui makes one, on its schedules): it runs %s',
              t.tgfoid::regprocedure),
       format('DROP TRIGGER %I ON %s;', t.tgname, t.tgrelid::regclass)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'backup'::regnamespace AND NOT t.tgisinternal
   AND NOT (t.tgname = 'backup_schedule_check' AND c.relname = 'backup_schedule'
            AND t.tgfoid = 'backup.schedule_check()'::regprocedure)
UNION ALL
SELECT 'schema backup',
       format('%s may create objects in it (only its owner may: a function planted there can capture calls)', g.who),
       format('REVOKE CREATE ON SCHEMA backup FROM %s;', g.who)
  FROM pg_namespace n, aclexplode(n.nspacl) a
  CROSS JOIN LATERAL (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS who) g
 WHERE n.nspname = 'backup' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
UNION ALL
SELECT c.oid::regclass::text,
       format('%s has %s on it (every write goes through backup-tui''s functions, which record who)',
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
              string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)),
       format('REVOKE %s ON %s FROM %s;', string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), c.oid::regclass,
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END)
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'backup'::regnamespace AND c.relkind IN ('r', 'p') AND a.grantee <> c.relowner
   AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
 GROUP BY c.oid, a.grantee
UNION ALL
SELECT 'role ' || m.member::regrole::text,
       format('may act as %s, the backup schema''s owner (a member of it): it can change or plant anything there',
              m.roleid::regrole),
       format('REVOKE %s FROM %s;', m.roleid::regrole, m.member::regrole)
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member, owner o
 WHERE m.roleid = o.oid AND NOT r.rolsuper
ORDER BY 1
"""


Read = Callable[[], list[Finding]]  # findings from statements already sent: call once they arrived


def _foreign(conn: psycopg.Connection) -> Read:
    """What is in schema backup that backup-tui did not put there, or that another role owns."""
    owner = conn.execute("SELECT n.nspowner::regrole::text FROM pg_namespace n WHERE n.nspname = 'backup'")
    owned = conn.execute(
        schema.FOREIGN_OWNED.format(owner="(SELECT nspowner FROM pg_namespace WHERE nspname = 'backup')")
    )
    not_ours = conn.execute(_NOT_OURS)

    def read() -> list[Finding]:
        holder_of_schema = owner.fetchone()[0]  # type: ignore[index]
        findings = [
            Finding(
                Category.FOREIGN,
                what,
                f"owned by {holder}, not by {holder_of_schema}, the backup schema's owner: {holder} can change "
                "it, and backup-tui will not act on it",
                f"backup-tui install --take-ownership  # or: {schema.alter_owner(what, holder_of_schema)};",
            )
            for what, holder in owned
        ]
        findings.extend(Finding(Category.FOREIGN, *row) for row in not_ours)
        return findings

    return read


def run_check(conn: psycopg.Connection, state: SchemaState, *, fast: bool = False, roles: Sequence[str] = ()) -> Read:
    """Every finding, in the order of Category: the statements are sent, then read. In pipeline
    mode (Session.read) the categories travel together: one round trip for them all, one more for
    what needs some of their answers first (exact counts, pg_cron's failed runs)."""
    if state is SchemaState.ABSENT:
        absent = Finding(
            Category.NOT_INSTALLED,
            "backup",
            "there is no backup schema in this database: nothing to check",
            "backup-tui install",
        )
        return lambda: [absent]
    known_roles = _require_roles(conn, roles)
    upgraded = state.upgraded
    wanted = list(dict.fromkeys([*DEFAULT_ROLES, *roles]))
    inventory = _inventory_findings(conn, upgraded)
    reads = [_archives(conn)] if upgraded else []
    reads += [_exposure(conn, roles, upgraded), _defaults(conn, wanted), _inherited(conn, wanted), _views_over(conn)]
    jobs = _schedules(conn, state) if upgraded else None
    foreign = _foreign(conn) if upgraded else None
    # The second step: what waits for part of the answers above (the one wait for all of them).
    ours = inventory(fast)
    scheduled = jobs() if jobs else None

    def read() -> list[Finding]:
        known_roles()
        findings = ours()
        for more in reads:
            findings.extend(more())
        if scheduled:
            findings.extend(scheduled())
        if foreign:
            findings.extend(foreign())
        return findings

    return read


def flags(conn: psycopg.Connection, state: SchemaState) -> Read:
    """What the inventory flags on its rows (drift, from estimates, and dependants): the statements
    those need, not a whole check (thirty-odd statements, most of them for findings the main screen
    does not show)."""
    if state is SchemaState.ABSENT:
        return list
    wanted = (Category.DRIFT, Category.DEPENDANTS)
    found = _inventory_findings(conn, state.upgraded)(True)
    return lambda: [f for f in found() if f.category in wanted]


def _inventory_findings(conn: psycopg.Connection, upgraded: bool) -> Callable[[bool], Read]:
    """Missing, unregistered, drifted backups and their dependants: sends what they need; then,
    given `fast`, counts rows exactly (a statement more) unless fast, and reads."""
    internal = "backup.internal_tables()" if upgraded else "%s::text[]"
    tables_sent = conn.execute(_TABLES.replace("{internal}", internal), () if upgraded else (list(_LEGACY_INTERNAL),))
    meta_sent = conn.execute(
        "SELECT backup_table_name::text, row_count::bigint, "
        + ("archive_location IS NOT NULL" if upgraded else "false")
        + " FROM backup.backup_metadata ORDER BY 1"
    )
    locked_sent = conn.execute("SELECT relid, pid FROM backup.locked_relations()") if upgraded else None
    # The 2025 layout has no backup.dependants (after install, it does).
    dependants_sent = conn.execute(_DEPENDANTS) if upgraded else None

    def then(fast: bool) -> Read:
        tables = {name: (oid, reltuples, why) for oid, name, reltuples, why in tables_sent}
        meta = meta_sent.fetchall()
        locked: dict[int, int | None] = dict(locked_sent.fetchall()) if locked_sent else {}
        compared = [(name, recorded) for name, recorded, _ in meta if name in tables and recorded is not None]
        counting = [n for n, _ in compared if tables[n][0] not in locked and not tables[n][2]]
        counts = (lambda: {}) if fast else _exact_counts(conn, counting)

        def read() -> list[Finding]:
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
            counted = counts()
            for name, recorded in compared:
                findings.extend(
                    _drift(conn, name, recorded, *tables[name], counted.get(name), fast=fast, locked_by=locked)
                )
            for name, dependant in dependants_sent or ():
                findings.append(
                    Finding(Category.DEPENDANTS, name, f"{dependant} depends on it: drop refuses until it goes", "")
                )
            return findings

        return read

    return then


_COUNTS_PER_STATEMENT = 500  # tables counted by one statement (its text stays well under 100 kB)


def _exact_counts(conn: psycopg.Connection, names: Sequence[str]) -> Callable[[], dict[str, int]]:
    """Each table's exact row count, many tables to a statement (UNION ALL): sent at once, read
    later; at 50 ms, 200 backups counted one by one took 10 s of waiting."""
    sent = []
    for start in range(0, len(names), _COUNTS_PER_STATEMENT):
        chunk = names[start : start + _COUNTS_PER_STATEMENT]
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}::text, count(*) FROM backup.{}").format(sql.Literal(name), sql.Identifier(name))
            for name in chunk
        )
        sent.append(conn.execute(query))
    return lambda: {name: int(count) for cur in sent for name, count in cur}


def _drift(
    conn: psycopg.Connection,
    name: str,
    recorded: int,
    oid: int,
    reltuples: float,
    not_countable: str | None,
    counted: int | None,
    *,
    fast: bool,
    locked_by: dict[int, int | None],
) -> list[Finding]:
    """Recorded against actual rows: counted (exact) unless fast, or the table is locked elsewhere
    (a count would queue behind the lock), not readable by this role (a reviewer), or not one whose
    rows may be counted with this role's rights (another role's table, row-level security)."""
    why_estimated = ""
    if oid in locked_by:
        why_estimated = f" (estimated: locked by pid {locked_by[oid]})"
    elif not_countable and not fast:
        why_estimated = f" (estimated: {not_countable})"
    if counted is None:
        if reltuples < 0:
            return []
        actual = int(reltuples)
        # Estimates are estimates: only a clear difference counts.
        if abs(actual - recorded) <= max(10, recorded // 10):
            return []
        how = "estimated"
    else:
        actual = counted
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


def _schedules(conn: psycopg.Connection, state: SchemaState) -> Callable[[], Read]:
    """Schedules whose last run failed or that are overdue by more than a period, and our pg_cron
    jobs whose runs failed in the last day. Sends the schedules and where pg_cron is; then, when
    pg_cron is here and readable, its failures (a statement more); then reads."""
    current = state is SchemaState.CURRENT
    # A schema of another version may predate schedules: asked (a round trip) only then.
    has_table = current or not conn.execute("SELECT to_regclass('backup.backup_schedule') IS NULL").fetchone()[0]  # type: ignore[index]
    listed = schedules.send_schedules(conn) if has_table else None
    cron = schedules.send_cron_state(conn)

    def then() -> Read:
        state = cron()
        readable = state.here and state.jobs_readable
        failures = conn.execute(_CRON_FAILURES, (list(schedules.job_names(conn.info.dbname)),)) if readable else None

        def read() -> list[Finding]:
            return [*_schedule_findings(listed() if listed else []), *_cron_findings(failures)]

        return read

    return then


# Our pg_cron jobs' failed runs of the last day (none when this role may not read pg_cron's tables:
# pg_cron shows a role only its own jobs anyway).
_CRON_FAILURES = """
SELECT j.jobid, j.jobname, count(*), max(r.start_time),
       (array_agg(r.return_message ORDER BY r.start_time DESC))[1]
  FROM cron.job j JOIN cron.job_run_details r ON r.jobid = j.jobid
 WHERE j.jobname = ANY(%s::text[]) AND r.status = 'failed' AND r.start_time > now() - interval '1 day'
 GROUP BY 1, 2 ORDER BY 2
"""


def _schedule_findings(rows: Sequence[Schedule]) -> list[Finding]:
    findings = []
    for s in rows:
        subject = f"schedule {s.id} ({s.source} {s.backup_kind}, {s.words})"
        if s.enabled and s.next_run is None:
            findings.append(
                Finding(
                    Category.SCHEDULE,
                    subject,
                    f"its expression {s.cron!r} never fires: no backup will ever be made",
                    f"backup-tui schedule remove {s.id}  # and add it again with a date that exists",
                )
            )
        elif s.failed:
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
    return findings


def _cron_findings(failures: psycopg.Cursor[Any] | None) -> list[Finding]:
    return [
        Finding(
            Category.SCHEDULE,
            f"pg_cron job {jobname!r}",
            f"{count} run(s) failed in the last day, the last at {fmt.date(last)} UTC: {message}",
            f"SELECT * FROM cron.job_run_details WHERE jobid = {jobid} ORDER BY start_time DESC LIMIT 5;",
        )
        for jobid, jobname, count, last, message in failures or ()
    ]


def _archives(conn: psycopg.Connection) -> Read:
    """Archives that `verify` last found damaged or unreadable (an archive counts as verified when
    it is written; `backup-tui verify --all` re-reads them all). Read through to_jsonb: a schema
    installed before 0.2 has no verify_* columns (nothing recorded yet) and the statement still runs."""
    rows = conn.execute(
        "SELECT m.backup_table_name, m.archive_location, j->>'verify_result', j->>'verify_detail', "
        "(j->>'verified_at')::timestamptz "
        "FROM backup.backup_metadata m CROSS JOIN LATERAL to_jsonb(m) j "
        "WHERE m.archive_location IS NOT NULL AND j->>'verify_result' IN ('damaged', 'unreadable') ORDER BY 1"
    )
    return lambda: [
        Finding(
            Category.ARCHIVE,
            name,
            f"archive at {location} was {result} when verified ({fmt.date(at)} UTC): {detail}",
            f"backup-tui verify {shlex.quote(name)}  # once the archive is repaired or replaced",
        )
        for name, location, result, detail, at in rows
    ]


def _exposure(conn: psycopg.Connection, roles: Sequence[str], upgraded: bool) -> Read:
    wanted = list(dict.fromkeys([*DEFAULT_ROLES, *roles]))
    grants = conn.execute(_EXPOSURE, (wanted,))
    postgrest = conn.execute(_POSTGREST)
    mutable = conn.execute(_SEARCH_PATH)
    definers = conn.execute(_DEFINER_EXPOSED)
    views = conn.execute(_DEFINER_VIEWS)
    restored = conn.execute(_RESTORED) if upgraded else None

    def read() -> list[Finding]:
        findings: list[Finding] = []
        for role, kind, obj, privilege, fix in grants:
            findings.append(Finding(Category.EXPOSURE, obj, f"{role} has {privilege} on {kind} {obj}", fix))
        for holder, setting in postgrest:
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
        for function, fix in mutable:
            findings.append(
                Finding(Category.SEARCH_PATH, function, "function_search_path_mutable: no fixed search_path", fix)
            )
        for role, function in definers:
            findings.append(
                Finding(
                    Category.DEFINER,
                    function,
                    f"{role}_security_definer_function_executable: {role} may run it with its owner's rights",
                    f"REVOKE EXECUTE ON FUNCTION {function} FROM {role};",
                )
            )
        for view in views.fetchall():
            findings.append(
                Finding(
                    Category.DEFINER,
                    view[0],
                    "security_definer_view: anon/authenticated read it with its owner's rights",
                    f"ALTER VIEW {view[0]} SET (security_invoker = true);",
                )
            )
        for table, readers, no_rls in restored or ():
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

    return read


def _defaults(conn: psycopg.Connection, wanted: Sequence[str]) -> Read:
    rows = conn.execute(_DEFAULTS, (list(wanted),))

    def read() -> list[Finding]:
        findings = []
        for role, owner, in_backup, objects, privileges in rows:
            where = "in schema backup" if in_backup else "anywhere (a global default, backups included)"
            findings.append(
                Finding(
                    Category.EXPOSURE,
                    f"default privileges of {owner}",
                    f"{role} is granted {privileges} on every new {objects[:-1]} {owner} creates {where}",
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner}{' IN SCHEMA backup' if in_backup else ''} "
                    f"REVOKE ALL ON {objects.upper()} FROM {role};",
                )
            )
        return findings

    return read


def _inherited(conn: psycopg.Connection, wanted: Sequence[str]) -> Read:
    """Exposure through role membership: reported with the REVOKE of the membership that passes
    it on (not revoked by --fix exposure: the membership may be what the application needs)."""
    rows = conn.execute(_INHERITED, ([r for r in wanted if r != "PUBLIC"],))

    def read() -> list[Finding]:
        findings = []
        for role, holder, what, count, fix in rows:
            more = f" and {count - 1} more privilege(s)" if count > 1 else ""
            findings.append(
                Finding(
                    Category.EXPOSURE,
                    f"role {holder}",
                    f"{role} inherits the rights of {holder}, which has {what}{more}",
                    fix or f"-- {role} reaches {holder} through several memberships: revoke the one that is not needed",
                )
            )
        return findings

    return read


def _views_over(conn: psycopg.Connection) -> Read:
    invoker = conn.info.server_version >= 150000  # security_invoker views
    rows = conn.execute(_VIEWS_OVER)

    def read() -> list[Finding]:
        findings = []
        for view, relkind, readers, tables in rows:
            if not readers:
                continue
            fix = (
                f"ALTER VIEW {view} SET (security_invoker = true);"
                if relkind == "v" and invoker
                else f"REVOKE ALL ON {view} FROM {', '.join(readers)};"
            )
            findings.append(
                Finding(
                    Category.DEFINER,
                    view,
                    f"security_definer_view: {', '.join(readers)} read {tables} through it with its owner's rights",
                    fix,
                )
            )
        return findings

    return read


def exposure(conn: psycopg.Connection) -> list[Finding]:
    """What reaches the backups from anon, authenticated or PUBLIC and backup.revoke_exposure takes
    back (after install: `install` says it; `check --fix exposure` revokes it)."""
    granted, defaults = _exposure(conn, (), upgraded=True), _defaults(conn, DEFAULT_ROLES)
    return [f for f in granted() if f.category is Category.EXPOSURE] + defaults()


def role_grants(conn: psycopg.Connection, role: str, level: str) -> list[str]:
    """The statements that give `role` what a reviewer or an operator needs (backup.role_grants)."""
    return [r[0] for r in conn.execute("SELECT backup.role_grants(%s::text, %s::text)", (role, level))]


def grant_role(conn: psycopg.Connection, role: str, level: str) -> list[str]:
    """Run them (backup.grant_role); the statements run."""
    return [r[0] for r in conn.execute("SELECT backup.grant_role(%s::text, %s::text)", (role, level))]


def revoke_exposure(conn: psycopg.Connection) -> list[str]:
    """Take back every privilege that reaches the backups from anon/authenticated/PUBLIC."""
    return [r[0] for r in conn.execute("SELECT backup.revoke_exposure(%s::text[])", (list(DEFAULT_ROLES),))]


def _require_roles(conn: psycopg.Connection, roles: Sequence[str]) -> Callable[[], None]:
    """Sends the question; the returned call raises for a role that does not exist."""
    known = conn.execute("SELECT rolname::text FROM pg_roles WHERE rolname = ANY(%s::text[])", (list(roles),))

    def read() -> None:
        found = {r[0] for r in known}
        unknown = [r for r in roles if r != "PUBLIC" and r not in found]
        if unknown:
            raise DatabaseError(f"no role named {', '.join(unknown)} in this cluster", ErrorKind.INVALID)

    return read


def _literal(conn: psycopg.Connection, value: str) -> str:
    return sql.Literal(value).as_string(conn)
