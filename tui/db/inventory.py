"""Reading the inventory: the view when installed, a read-only equivalent on a legacy layout."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from tui.db.connection import pipelined
from tui.model import INVENTORY_COLUMNS, Backup, ListOrder, ListQuery, SchemaState, TableEstimate, qualified_source


# A 2025 install has only backup_metadata and a view that errors on the first missing table.
# This query reads the same columns the new view has, from the catalog and the legacy table
# alone, so a reviewer without DDL rights can browse before anyone upgrades. Without a
# retention policy there is nothing to expire: every present backup is `keep`; without our
# functions there are no age words either (the created date is there).
def valid_date(column: str) -> str:
    """A date column as a timestamptz a client can hold (finite, years 1 to 9999), else NULL: the
    2025 layout has no backup.valid_date, and one row dated 'infinity' must not break a read."""
    value = f"{column}::timestamptz"
    return (
        f"CASE WHEN pg_catalog.isfinite({value}) AND {value} >= '0001-01-01 00:00:00+00'::timestamptz "
        f"AND {value} < '10000-01-01 00:00:00+00'::timestamptz THEN {value} END"
    )


_LEGACY_INVENTORY = """
WITH rel AS (
    SELECT c.oid, c.relname::text AS relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'backup' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> 'backup_metadata'
), entries AS (
    SELECT m.id, m.original_table_name::text, m.backup_table_name::text,
           {valid_backup_date} AS backup_date, m.row_count::bigint AS row_count,
           m.backup_reason::text, {valid_created_at} AS created_at, m.created_by::text, r.oid,
           true AS registered
      FROM backup.backup_metadata m LEFT JOIN rel r ON r.relname = m.backup_table_name::text
    UNION ALL
    SELECT NULL, NULL, r.relname, NULL, NULL, NULL, NULL, NULL, r.oid, false
      FROM rel r
     WHERE NOT EXISTS (SELECT 1 FROM backup.backup_metadata m WHERE m.backup_table_name::text = r.relname)
)
SELECT e.id, e.original_table_name, e.backup_table_name, e.backup_date, e.row_count, e.backup_reason,
       e.created_at, e.created_by, pg_size_pretty(s.size_bytes) AS backup_size, 'public' AS source_schema,
       NULL::text AS backup_kind, s.size_bytes, NULL::timestamptz AS expires_at,
       CASE WHEN NOT e.registered THEN 'unregistered' WHEN e.oid IS NULL THEN 'missing' ELSE 'keep' END AS status,
       'no retention policy before the upgrade (backup-tui install)' AS policy_reason,
       NULL::text AS age_words, e.oid IS NOT NULL AS size_exact, NULL::integer AS locked_by,
       NULL::timestamptz AS verified_at, NULL::text AS verify_result, NULL::text AS rule,
       NULL::text AS requested_by, NULL::text AS redundant_of
  FROM entries e CROSS JOIN LATERAL (SELECT pg_total_relation_size(e.oid) AS size_bytes) s
""".format(valid_backup_date=valid_date("m.backup_date"), valid_created_at=valid_date("m.created_at"))


_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in INVENTORY_COLUMNS)


def inventory_query(conn: psycopg.Connection, state: SchemaState) -> sql.SQL | sql.Composed:
    """The query whose rows are INVENTORY_COLUMNS, for this schema state. A schema another version
    installed (older, or newer) is read through whichever of our columns its view has: a reviewer
    browses before anyone upgrades."""
    if state is SchemaState.LEGACY:
        return sql.SQL(_LEGACY_INVENTORY)
    if state is SchemaState.CURRENT:
        return sql.SQL("SELECT {} FROM backup.backup_inventory").format(_COLUMNS)
    present = {
        r[0]
        for r in conn.execute(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = 'backup.backup_inventory'::regclass "
            "AND attnum > 0 AND NOT attisdropped"
        )
    }
    defaults = {"status": sql.SQL("'keep'"), "size_exact": sql.SQL("true")}
    columns = sql.SQL(", ").join(
        sql.Identifier(c) if c in present else sql.SQL("{} AS {}").format(defaults.get(c, sql.NULL), sql.Identifier(c))
        for c in INVENTORY_COLUMNS
    )
    return sql.SQL("SELECT {} FROM backup.backup_inventory").format(columns)


_ORDER = {
    ListOrder.NEWEST: ("backup_date", "DESC"),
    ListOrder.SIZE: ("size_bytes", "DESC"),
    ListOrder.AGE: ("backup_date", "ASC"),
    ListOrder.NAME: ("backup_table_name", "ASC"),
}


def _listed(
    conn: psycopg.Connection, state: SchemaState, query: ListQuery
) -> tuple[sql.Composed, dict[str, Any], sql.Composed]:
    """The inventory's rows `query` asks for (filters, order, limit), as one SELECT over the
    inventory, and its ORDER BY (over alias i): `list` in every format reads this, so they cannot
    disagree."""
    column, direction = _ORDER[query.order]
    if query.reverse:
        direction = "ASC" if direction == "DESC" else "DESC"
    where = sql.SQL(
        "(%(status)s::text IS NULL OR i.status = %(status)s) AND (%(kind)s::text IS NULL OR i.backup_kind = %(kind)s) "
        "AND (%(source)s::text IS NULL OR i.original_table_name = %(source)s "
        "OR i.source_schema || '.' || i.original_table_name = %(source)s)"
    )
    order = sql.SQL("{} {} NULLS LAST, i.backup_table_name").format(sql.Identifier("i", column), sql.SQL(direction))
    select = sql.SQL("SELECT i.* FROM ({}) i WHERE {} ORDER BY {} LIMIT %(limit)s").format(
        inventory_query(conn, state), where, order
    )
    params: dict[str, Any] = {
        "status": None if query.status is None else str(query.status),
        "kind": query.kind,
        "source": query.source,
        "limit": query.limit,
    }
    return select, params, order


def list_inventory(conn: psycopg.Connection, state: SchemaState, query: ListQuery) -> Callable[[], list[Backup]]:
    """Send `list`'s query; how to read its rows once they have arrived (Session.read)."""
    if state is SchemaState.ABSENT:
        return list
    select, params, _ = _listed(conn, state, query)
    cur = conn.execute(select, params)
    return lambda: [Backup(*row) for row in cur]


def inventory_json(conn: psycopg.Connection, state: SchemaState, query: ListQuery | None = None) -> Callable[[], str]:
    """The inventory as a JSON array built by PostgreSQL (keys = the view's columns, ISO 8601
    dates), in `query`'s order: the client only passes the text on. Sent; read it when it arrived."""
    if state is SchemaState.ABSENT:
        return lambda: "[]"
    select, params, order = _listed(conn, state, query or ListQuery())
    cur = conn.execute(
        sql.SQL("SELECT coalesce(json_agg(i ORDER BY {}), '[]')::text FROM ({}) i").format(order, select), params
    )

    def text() -> str:
        row = cur.fetchone()
        assert row is not None
        return str(row[0])

    return text


def load_inventory(
    conn: psycopg.Connection,
    state: SchemaState,
    estimate_sizes: bool = False,
    biggest: int | None = None,
    names: list[str] | None = None,
) -> list[Backup]:
    """Every backup, in no particular order (callers sort). O(n) in the number of backups.

    `estimate_sizes`: sizes from the catalog instead of pg_total_relation_size, which opens every
    table (most of the query's time in a new session); for a quick first paint, then load exact.
    `biggest`: only the N biggest backups (by catalog size) — a first screen of a large inventory
    in O(N log n) instead of O(n). `names`: only these backups (after a write touched them).
    On another version's schema, the whole view is read (and filtered).
    """
    if state is SchemaState.ABSENT:
        return []
    if names is not None and not estimate_sizes:  # no setting to scope: no savepoint
        return named_inventory(conn, state, names)
    with conn.transaction():
        if estimate_sizes and state is not SchemaState.LEGACY:
            conn.execute("SELECT set_config('backup.size_estimates', 'on', true)")
        if biggest is not None and state is SchemaState.CURRENT:
            query = sql.SQL("SELECT {} FROM backup.inventory_rows(backup.biggest_backups(%s::integer))").format(
                _COLUMNS
            )
            return _backups(conn.execute(query, (biggest,)))
        if names is not None:
            return named_inventory(conn, state, names)
        # Binary on our own schema (its column types are fixed by backup.inventory_rows): parsing
        # timestamps and uuids from text was ~80 ms of 100,000 rows.
        with conn.cursor(name="backup_tui_inventory", binary=state is SchemaState.CURRENT) as cur:
            # Every row: fetched in chunks through a server-side cursor, so the client never holds
            # the whole result twice (libpq's copy and the rows built from it): at 100,000 backups
            # that transient was most of the process's peak memory.
            cur.itersize = _CHUNK
            cur.execute(inventory_query(conn, state))
            return _backups(cur)


@pipelined
def named_inventory(conn: psycopg.Connection, state: SchemaState, names: list[str]) -> list[Backup]:
    """Only these backups, with exact sizes: one statement (the backups a command names, those a
    write touched)."""
    if state is SchemaState.ABSENT:
        return []
    if state is SchemaState.CURRENT:
        query = sql.SQL("SELECT {} FROM backup.inventory_rows(%s::text[])").format(_COLUMNS)
        return _backups(conn.execute(query, (names,)))
    query = sql.SQL("SELECT * FROM ({}) i WHERE i.backup_table_name = ANY(%s::text[])").format(
        inventory_query(conn, state)
    )
    return _backups(conn.execute(query, (names,)))


@pipelined
def siblings(conn: psycopg.Connection, names: list[str]) -> dict[str, list[str]]:
    """The source tables of these backups, each with its backups that still have a table, newest
    first (dates a client cannot hold left out, as the plan's floor does): one statement."""
    rows = conn.execute(
        """
        SELECT m.source_schema, m.original_table_name, m.backup_table_name
          FROM backup.backup_metadata m
         WHERE (m.source_schema, m.original_table_name) IN (
                   SELECT n.source_schema, n.original_table_name FROM backup.backup_metadata n
                    WHERE n.backup_table_name = ANY(%s::text[]))
           AND m.backup_date >= '0001-01-01 00:00:00+00'::timestamptz
           AND m.backup_date < '10000-01-01 00:00:00+00'::timestamptz
           AND EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.relname = m.backup_table_name::name AND c.relnamespace = 'backup'::regnamespace)
         ORDER BY m.backup_date DESC, m.backup_table_name DESC
        """,
        (names,),
    )
    by_source: dict[str, list[str]] = {}
    for schema, table, name in rows:
        by_source.setdefault(qualified_source(schema, table), []).append(name)
    return by_source


_CHUNK = 5_000  # rows per FETCH: ~2 MB of result at a time; 20 round trips at 100,000 backups

# Columns whose values repeat from row to row (a source table, a reason, a kind, the policy's
# words): one string object per distinct value, not one per row.
_SHARED = tuple(
    INVENTORY_COLUMNS.index(c)
    for c in (
        "original_table_name",
        "backup_reason",
        "created_by",
        "backup_size",
        "source_schema",
        "backup_kind",
        "status",
        "policy_reason",
        "age_words",
        "verify_result",
        "rule",
    )
)


def _backups(rows: Iterable[Sequence[Any]]) -> list[Backup]:
    """Backups from the inventory's rows, repeated values shared (O(n), one dict probe a value).
    At 100,000 backups this is a third of the rows' memory: a reason or a source table repeats
    thousands of times."""
    seen: dict[Any, Any] = {}
    share = seen.setdefault
    out = []
    for row in rows:
        values = list(row)
        for i in _SHARED:
            values[i] = share(values[i], values[i])
        out.append(Backup(*values))
    return out


def send_approximate_count(conn: psycopg.Connection) -> Callable[[], int | None]:
    """How many backups, from the catalog's row estimate of backup_metadata (O(1)); None if
    unknown (no such table, or never analyzed). Sent; the returned call reads it."""
    cur = conn.execute(
        "SELECT nullif(greatest(c.reltuples, -1), -1)::bigint FROM pg_class c "
        "WHERE c.oid = to_regclass('backup.backup_metadata')"
    )

    def read() -> int | None:
        row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    return read


@pipelined
def small_inventory(conn: psycopg.Connection, state: SchemaState) -> list[Backup]:
    """Every backup with exact sizes in one plain statement: for an inventory small enough that
    its sizes cost less than the round trips of a server-side cursor and of a second, exact step."""
    if state is SchemaState.ABSENT:
        return []
    if state is SchemaState.CURRENT:
        return send_small_inventory(conn)()
    return _backups(conn.execute(inventory_query(conn, state)))


def send_small_inventory(conn: psycopg.Connection) -> Callable[[], list[Backup]]:
    """A CURRENT schema's every backup with exact sizes, sent; the returned call reads them."""
    cur = conn.execute(inventory_query(conn, SchemaState.CURRENT), binary=True)
    return lambda: _backups(cur)


@pipelined
def source_tables(conn: psycopg.Connection) -> list[TableEstimate]:
    """Tables that can be backed up, with estimated bytes and rows, biggest first.

    Rows are -1 for a table never analyzed (PostgreSQL does not know yet).

    Estimates from pg_class (as of the last VACUUM/ANALYZE) on purpose: pg_total_relation_size
    takes a lock, and a table locked by a running migration would hang the create form.
    """
    rows = conn.execute(
        """
        SELECT n.nspname::text, c.relname::text,
               (c.relpages + coalesce(t.relpages, 0))::bigint * current_setting('block_size')::bigint,
               c.reltuples
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname NOT IN ('backup', 'pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname NOT LIKE 'pg\\_temp\\_%'
         ORDER BY 3 DESC
        """
    ).fetchall()
    return [TableEstimate(schema, name, size, estimated) for schema, name, size, estimated in rows]


@pipelined
def archived_names(conn: psycopg.Connection) -> list[str]:
    """Every archived backup of the catalogue (verify --all)."""
    rows = conn.execute(
        "SELECT backup_table_name FROM backup.backup_metadata WHERE archive_location IS NOT NULL ORDER BY 1"
    )
    return [r[0] for r in rows]


def archive_entry(conn: psycopg.Connection, name: str) -> tuple[str | None, dict[str, Any] | None]:
    """Where an archived backup lives and its manifest as recorded at archive time."""
    row = conn.execute(
        "SELECT archive_location, archive_manifest FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def with_exact_sizes(conn: psycopg.Connection, rows: list[Backup]) -> list[Backup]:
    """`rows` (loaded with size estimates) given their exact sizes in place, from the inventory
    itself (the same rule: a table locked elsewhere keeps its estimate, marked): four columns rather
    than every column again, streamed. Returns the rows still there (the same objects) and, read
    whole, a backup created since `rows` were read (a new id under a name); one dropped since is
    left out. O(n). CURRENT schema only."""
    by_name = {r.backup_table_name: r for r in rows}
    out, created = [], []
    seen: dict[Any, Any] = {}
    with conn.transaction(), conn.cursor(name="backup_tui_sizes") as cur:
        cur.itersize = _CHUNK * 4
        cur.execute(
            "SELECT backup_table_name, id, size_bytes, backup_size, size_exact, locked_by FROM backup.backup_inventory"
        )
        for name, ident, size, pretty, exact, pid in cur:
            row = by_name.get(name)
            if row is None or row.id != ident:  # new, or dropped and made again under its name
                created.append(name)
            else:
                row.set_size(size, seen.setdefault(pretty, pretty), exact, pid)
                out.append(row)
    if created:
        out.extend(load_inventory(conn, SchemaState.CURRENT, names=created))
    return out
