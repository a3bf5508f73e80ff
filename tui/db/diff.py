"""What changed since a backup (#27): columns, rows by key (or as multisets without one), changes
per column, the first differing rows, and the statements that would put the live rows back.

Everything is compared on the server in one statement that reads each table once (a hash full
join on the key; a hash aggregate without one), under our transaction's lock_timeout and with
ACCESS SHARE only (a SELECT): writers are never blocked. Only counts and the sample rows travel.
The caller's own rights apply: a side it may not read is refused before anything is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tui.db.errors import DatabaseError, ErrorKind
from tui.model import DiffColumn, DiffResult, DiffSample, qualified_source

# The hash of one side in memory rather than in batches on disk (work_mem's 4 MB default: a million
# rows took eight batches): 1.29 s -> 1.12 s at 1,000,000 rows. Transaction-local, like every
# setting of ours.
DIFF_WORK_MEM = "256MB"


@dataclass(frozen=True)
class _Side:
    schema: str
    name: str
    oid: int
    columns: dict[str, tuple[str, int, bool]]  # name -> (type as written, type oid, comparable with =)

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def label(self) -> str:
        return qualified_source(self.schema, self.name) if self.schema != "backup" else f"backup.{self.name}"


_COLUMNS = """
SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.atttypid::int,
       -- = works for it: a default btree opclass for the type (an array: for its element type).
       -- Otherwise (json, point, xml, an enum, a domain) values are compared as text.
       EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                WHERE am.amname = 'btree' AND oc.opcdefault
                  AND oc.opcintype = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END)
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""


def _side(conn: psycopg.Connection, schema: str, name: str) -> _Side:
    row = conn.execute(
        "SELECT c.oid::int, has_table_privilege(c.oid, 'SELECT') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
        "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        (schema, name),
    ).fetchone()
    label = qualified_source(schema, name) if schema != "backup" else f"backup.{name}"
    if row is None:
        raise DatabaseError(f"no table {label} to compare", ErrorKind.NOT_FOUND)
    if not row[1]:
        raise DatabaseError(
            f"permission denied: you may not read {label}, so it cannot be compared", ErrorKind.PERMISSION
        )
    columns = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(_COLUMNS, (row[0],))}
    return _Side(schema, name, row[0], columns)


def _key(conn: psycopg.Connection, live: _Side | None, common: Sequence[str]) -> list[str] | None:
    """The live table's primary key, else a unique key on NOT NULL columns, whose columns both sides
    have with the same type: the rows' identity. None: compare as multisets."""
    if live is None:
        return None
    rows = conn.execute(
        """
        SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, o)
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.o),
               bool_and(a2.attnotnull)
          FROM pg_index i JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = ANY (i.indkey)
         WHERE i.indrelid = %s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
         GROUP BY i.indexrelid, i.indisprimary, i.indkey, i.indrelid
         ORDER BY i.indisprimary DESC, array_length(i.indkey, 1), i.indexrelid
        """,
        (live.oid,),
    ).fetchall()
    for columns, not_null in rows:
        if not_null and 0 not in columns and all(c in common for c in columns):
            return list(columns)
    return None


def resolve(conn: psycopg.Connection, name: str, against: str | None) -> tuple[_Side, _Side, _Side | None]:
    """The backup, what it is compared with, and the live source table (for its key) when it exists."""
    meta = conn.execute(
        "SELECT source_schema, original_table_name FROM backup.backup_metadata WHERE backup_table_name = %s::text",
        (name,),
    ).fetchone()
    if meta is None:
        raise DatabaseError(f"no registered backup named {name} in schema backup", ErrorKind.NOT_FOUND)
    backup = _side(conn, "backup", name)
    source = None
    if conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        meta,
    ).fetchone():
        source = _side(conn, meta[0], meta[1])
    if against is None:
        if source is None:
            raise DatabaseError(
                f"{qualified_source(*meta)}, the table backed up, is gone: compare with --against another table "
                "or backup",
                ErrorKind.NOT_FOUND,
            )
        return backup, source, source
    if conn.execute("SELECT 1 FROM backup.backup_metadata WHERE backup_table_name = %s::text", (against,)).fetchone():
        return backup, _side(conn, "backup", against), source
    schema, _, table = against.rpartition(".") if "." in against and not against.startswith('"') else ("", "", against)
    other = _side(conn, schema or "public", table)
    return backup, other, other  # a table: its own key matches the rows


def _value(alias: str, column: str, comparable: bool) -> sql.Composable:
    ref = sql.Identifier(alias, column)
    return ref if comparable else sql.SQL("{}::text").format(ref)


def compare(conn: psycopg.Connection, name: str, against: str | None, limit: int) -> DiffResult:
    """The whole comparison (see the module's docstring)."""
    backup, other, live = resolve(conn, name, against)
    columns = _columns(backup, other)
    common = [c.name for c in columns if c.change == "same"]
    key = _key(conn, live, common)
    conn.execute("SELECT pg_catalog.set_config('work_mem', %s::text, true)", (DIFF_WORK_MEM,))
    if key is None:
        only_backup, only_other, samples = _as_multisets(conn, backup, other, common, limit)
        return DiffResult(backup.label, other.label, None, columns, only_backup, only_other, None, {}, samples)
    return _by_key(conn, backup, other, columns, common, key, limit)


def _columns(backup: _Side, other: _Side) -> list[DiffColumn]:
    out = []
    for column, (typ, _, _) in backup.columns.items():
        if column not in other.columns:
            out.append(DiffColumn(column, "removed", typ, None))
        elif other.columns[column][1] != backup.columns[column][1]:
            out.append(DiffColumn(column, "retyped", typ, other.columns[column][0]))
        else:
            out.append(DiffColumn(column, "same", typ, typ))
    out.extend(DiffColumn(c, "added", None, t) for c, (t, _, _) in other.columns.items() if c not in backup.columns)
    return out


def _by_key(
    conn: psycopg.Connection,
    backup: _Side,
    other: _Side,
    columns: list[DiffColumn],
    common: list[str],
    key: list[str],
    limit: int,
) -> DiffResult:
    values = [c for c in common if c not in key]
    comparable = {c: backup.columns[c][2] for c in common}
    flags = [
        sql.SQL("{} IS DISTINCT FROM {}").format(_value("a", c, comparable[c]), _value("b", c, comparable[c]))
        for c in values
    ]
    joined = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("a", k), sql.Identifier("b", k)) for k in key
    )
    picked = sql.SQL(", ").join(sql.Identifier(c) for c in common)
    differs = sql.SQL(" OR ").join(flags) if flags else sql.SQL("false")
    keys_out = sql.SQL(", ").join(
        sql.SQL("coalesce({}, {}) AS {}").format(sql.Identifier("a", k), sql.Identifier("b", k), sql.Identifier(k))
        for k in key
    )
    flags_out = sql.SQL("ARRAY[{}]::bool[]").format(sql.SQL(", ").join(flags)) if flags else sql.SQL("'{}'::bool[]")
    order = sql.SQL(", ").join(sql.Identifier("d", k) for k in key)
    per_column = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE d.flags[{}])").format(sql.Literal(i + 1)) for i in range(len(values))
    )
    query = sql.SQL(
        """
        WITH d AS MATERIALIZED (
            SELECT CASE WHEN a.__here IS NULL THEN 'added' WHEN b.__here IS NULL THEN 'deleted' ELSE 'changed' END
                       AS kind,
                   {keys_out}, a.__tid AS a_tid, b.__tid AS b_tid, {flags_out} AS flags
              FROM (SELECT true AS __here, ctid AS __tid, {picked} FROM {backup}) a
              FULL JOIN (SELECT true AS __here, ctid AS __tid, {picked} FROM {other}) b ON {joined}
             WHERE a.__here IS NULL OR b.__here IS NULL OR {differs}
        ), sampled AS (
            SELECT d.*, row_number() OVER (PARTITION BY d.kind ORDER BY {order}) AS rn FROM d
        )
        SELECT 'count' AS what, d.kind, count(*)::bigint, NULL::jsonb, NULL::jsonb, NULL::bool[],
               ARRAY[{per_column}]::bigint[]
          FROM d GROUP BY d.kind
        UNION ALL
        -- The sample rows themselves, fetched by their tuple ids (a TID scan each): no second pass.
        SELECT 'sample', s.kind, NULL,
               (SELECT to_jsonb(x) FROM (SELECT {picked} FROM {backup} t WHERE t.ctid = s.a_tid) x),
               (SELECT to_jsonb(x) FROM (SELECT {picked} FROM {other} t WHERE t.ctid = s.b_tid) x),
               s.flags, NULL
          FROM sampled s
         WHERE s.rn <= {limit}
        """
    ).format(
        keys_out=keys_out,
        flags_out=flags_out,
        picked=picked,
        backup=backup.ident,
        other=other.ident,
        joined=joined,
        differs=differs,
        order=order,
        per_column=per_column if values else sql.SQL(""),
        limit=sql.Literal(limit),
    )
    return _read(conn.execute(query), backup, other, columns, key, values)


def _read(
    cur: psycopg.Cursor[Any],
    backup: _Side,
    other: _Side,
    columns: list[DiffColumn],
    key: list[str],
    values: list[str],
) -> DiffResult:
    counts = {"added": 0, "deleted": 0, "changed": 0}
    per_column: dict[str, int] = {}
    samples: dict[str, list[DiffSample]] = {"added": [], "deleted": [], "changed": []}
    for what, kind, n, old, new, flags, per in cur:
        if what == "count":
            counts[kind] = n
            if kind == "changed" and per:
                per_column = {c: k for c, k in zip(values, per, strict=False) if k}
        else:
            row = old or new or {}
            changed = [c for c, f in zip(values, flags or [], strict=False) if f] if kind == "changed" else []
            samples[kind].append(DiffSample({k: row.get(k) for k in key}, old, new, changed))
    return DiffResult(
        backup.label,
        other.label,
        key,
        columns,
        counts["deleted"],
        counts["added"],
        counts["changed"],
        per_column,
        samples,
    )


def _as_multisets(
    conn: psycopg.Connection, backup: _Side, other: _Side, common: list[str], limit: int
) -> tuple[int, int, dict[str, list[DiffSample]]]:
    """Without a key: rows as multisets of whole rows (common columns), counted on each side."""
    if not common:
        raise DatabaseError("the two sides have no column in common: there is nothing to compare", ErrorKind.INVALID)
    grouped = sql.SQL(", ").join(
        sql.Identifier(c) if backup.columns[c][2] else sql.SQL("{}::text").format(sql.Identifier(c)) for c in common
    )
    names = sql.SQL(", ").join(sql.Identifier(c) for c in common)
    query = sql.SQL(
        """
        WITH g AS MATERIALIZED (
            SELECT {names}, sum(u.__a) AS na, sum(u.__b) AS nb
              FROM (SELECT {grouped}, 1 AS __a, 0 AS __b FROM {backup}
                    UNION ALL SELECT {grouped}, 0, 1 FROM {other}) u
             GROUP BY {names} HAVING sum(u.__a) <> sum(u.__b)
        )
        SELECT 'count', NULL::jsonb, coalesce(sum(greatest(na - nb, 0)), 0)::bigint,
               coalesce(sum(greatest(nb - na, 0)), 0)::bigint FROM g
        UNION ALL
        (SELECT 'sample', to_jsonb(g) - 'na' - 'nb', (na - nb)::bigint, NULL FROM g LIMIT {limit})
        """
    ).format(names=names, grouped=grouped, backup=backup.ident, other=other.ident, limit=sql.Literal(limit * 2))
    only_backup = only_other = 0
    samples: dict[str, list[DiffSample]] = {"added": [], "deleted": [], "changed": []}
    for what, row, a, b in conn.execute(query):
        if what == "count":
            only_backup, only_other = int(a), int(b)
        elif a > 0 and len(samples["deleted"]) < limit:
            samples["deleted"].append(DiffSample({}, row, None, []))
        elif a < 0 and len(samples["added"]) < limit:
            samples["added"].append(DiffSample({}, None, row, []))
    return only_backup, only_other, samples


SECTIONS = ("insert", "update", "delete")


def repair_sql(conn: psycopg.Connection, name: str, against: str | None, sections: Sequence[str]) -> str:
    """The statements that would put the live table's differing rows back as the backup has them,
    for a DBA to review and run: INSERT the rows deleted since, UPDATE the changed ones, DELETE the
    rows added since (each section on request), in one transaction. They read the backup table on
    the server (no value is written out), quoted and typed as the tables are; nothing runs here."""
    backup, other, live = resolve(conn, name, against)
    if other.schema == "backup":
        raise DatabaseError("--sql puts a live table back: compare with a table, not another backup", ErrorKind.INVALID)
    columns = _columns(backup, other)
    common = [c.name for c in columns if c.change == "same"]
    key = _key(conn, live, common)
    if key is None:
        raise DatabaseError(
            f"{other.label} has no primary or unique key that the backup has too: rows cannot be matched, "
            "so no statements can say which to put back",
            ErrorKind.INVALID,
        )
    values = [c for c in common if c not in key]
    comparable = {c: backup.columns[c][2] for c in common}
    names = sql.SQL(", ").join(sql.Identifier(c) for c in common)
    from_backup = sql.SQL(", ").join(sql.Identifier("b", c) for c in common)
    match = sql.SQL(" AND ").join(sql.SQL("o.{k} = b.{k}").format(k=sql.Identifier(k)) for k in key)
    differs = sql.SQL(" OR ").join(
        sql.SQL("{} IS DISTINCT FROM {}").format(_value("o", c, comparable[c]), _value("b", c, comparable[c]))
        for c in values
    )
    statements = {
        "insert": sql.SQL(
            "-- the rows deleted since the backup, back in\n"
            "INSERT INTO {other} ({names})\nSELECT {from_backup}\n  FROM {backup} b\n"
            " WHERE NOT EXISTS (SELECT 1 FROM {other} o WHERE {match});"
        ),
        "update": sql.SQL(
            "-- the rows changed since the backup, their values back\n"
            "UPDATE {other} o\n   SET {assign}\n  FROM {backup} b\n WHERE {match}\n   AND ({differs});"
        )
        if values
        else None,
        "delete": sql.SQL(
            "-- the rows added since the backup, out\n"
            "DELETE FROM {other} o\n WHERE NOT EXISTS (SELECT 1 FROM {backup} b WHERE {match});"
        ),
    }
    assign = sql.SQL(",\n       ").join(sql.SQL("{c} = b.{c}").format(c=sql.Identifier(c)) for c in values)
    notes = [
        f"-- backup-tui diff --sql: {other.label} put back as {backup.label} has it, matched by {', '.join(key)}.",
        "-- Review before running; nothing has run. Sections: " + ", ".join(sections) + ".",
    ]
    for c in columns:
        if c.change == "added":
            notes.append(f"-- column {c.name} ({c.other_type}) was added since: inserted rows get its default")
        elif c.change == "removed":
            notes.append(f"-- column {c.name} ({c.backup_type}) is gone from {other.label}: its values cannot go back")
        elif c.change == "retyped":
            notes.append(f"-- column {c.name} changed type ({c.backup_type} -> {c.other_type}): left as it is")
    parts = ["\n".join(notes), "BEGIN;"]
    for section in SECTIONS:
        statement = statements[section]
        if section in sections and statement is not None:
            parts.append(
                statement.format(
                    other=other.ident,
                    backup=backup.ident,
                    names=names,
                    from_backup=from_backup,
                    match=match,
                    differs=differs,
                    assign=assign,
                ).as_string(conn)
            )
    parts.append("COMMIT;")
    return "\n\n".join(parts) + "\n"
