"""Every database at once: the targets (libpq's connection service file, --service/--dsn, or the
config's [fleet] list) and one summary row per target, queried in parallel with a bounded pool.
Passwords stay with libpq (.pgpass, PGPASSFILE): a target is only ever `service=NAME` or a DSN."""

from __future__ import annotations

import configparser
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import psycopg

from tui.db.check import run_check
from tui.db.connection import Settings, connect, declared_place, send_server_info, service_files, transaction
from tui.db.errors import DatabaseError, friendly_message
from tui.db.inventory import valid_date
from tui.db.schema import schema_state
from tui.db.watchdog import GRACE, WATCH
from tui.model import FleetRow, FleetTarget, SchemaState

SUMMARY_TIMEOUT = "30s"


def services() -> list[str]:
    """Every service name the service files define (the user's first), in file order."""
    names: list[str] = []
    for path in service_files():
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue  # libpq reports a broken file when a service of it is used
        names.extend(n for n in parser.sections() if n not in names)
    return names


def targets(
    service_names: Iterable[str] = (), dsns: Iterable[str] = (), configured: Iterable[str] = ()
) -> list[FleetTarget]:
    """Named services and DSNs when given; else the config's [fleet] list; else every service."""
    chosen = [FleetTarget(f"service={s}", s) for s in service_names] + [FleetTarget(d, _label(d)) for d in dsns]
    if chosen:
        return chosen
    listed = [FleetTarget(t, _label(t)) for t in configured]
    return listed or [FleetTarget(f"service={s}", s) for s in services()]


def _label(dsn: str) -> str:
    """A short name for a DSN: its service, else host/dbname, never its password."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return dsn.split("@")[-1][:60]
    if params.get("service"):
        return str(params["service"])
    host = str(params.get("host") or "local")
    return f"{'local' if host.startswith('/') else host}/{params.get('dbname') or params.get('user') or ''}"


def summary(target: FleetTarget, connect_timeout: int = 5, statement_timeout: str = SUMMARY_TIMEOUT) -> FleetRow:
    """One target's row: reachable or the error in one phrase; its schema; its backups' totals
    from catalog size estimates (no table is opened, nothing waits on a lock); `check --fast`."""
    settings = Settings(dsn=target.dsn, read_only=True, connect_timeout=connect_timeout)
    try:
        conn = connect(settings)
    except DatabaseError as exc:
        return _unreachable(target, phrase(str(exc)))
    try:
        # One transaction in pipeline mode: who we are and the schema's state (its two round
        # trips), then the totals, the fast check and the last scheduled run together (two more:
        # the check's second step waits for part of its first), the COMMIT with the last of them.
        with transaction(conn, settings, statement_timeout, pipeline=True):
            info = send_server_info(conn)
            state = schema_state(conn)
            findings = run_check(conn, state, fast=True)
            if state in (SchemaState.CURRENT, SchemaState.OUTDATED, SchemaState.NEWER):
                conn.execute("SELECT pg_catalog.set_config('backup.size_estimates', 'on', true)")
                totals = conn.execute(
                    "SELECT count(*), coalesce(sum(size_bytes), 0)::bigint, "
                    "coalesce(sum(size_bytes) FILTER (WHERE status = 'expired'), 0)::bigint, "
                    "count(*) FILTER (WHERE status = 'expired'), min(backup_date), "
                    "pg_catalog.pg_database_size(pg_catalog.current_database()) "
                    "FROM backup.inventory_rows(NULL::text[])"
                )
            elif state is SchemaState.LEGACY:
                totals = conn.execute(
                    "SELECT count(*), coalesce(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::bigint, 0, 0, "
                    f"min({valid_date('m.backup_date')}), pg_catalog.pg_database_size(pg_catalog.current_database()) "
                    "FROM backup.backup_metadata m LEFT JOIN pg_catalog.pg_class c "
                    "ON c.relname = m.backup_table_name::name AND c.relnamespace = 'backup'::regnamespace"
                )
            else:  # no backup schema: that is its one finding
                totals = conn.execute(
                    "SELECT 0, 0, 0, 0, NULL::timestamptz, pg_catalog.pg_database_size(pg_catalog.current_database())"
                )
            scheduled = None
            # Another version's schema may predate schedules: asked (a round trip) only then.
            if state is SchemaState.CURRENT or (
                state.upgraded
                and conn.execute("SELECT to_regclass('backup.backup_schedule') IS NOT NULL").fetchone()[0]  # type: ignore[index]
            ):
                scheduled = conn.execute(
                    "SELECT max(s.last_attempt_at) FROM backup.backup_schedule s WHERE s.last_result = 'ok'"
                )
        who = info()
        row = FleetRow(target, host=who.host, port=who.port, dbname=who.dbname, version=who.version, state=state)
        counted = totals.fetchone()
        assert counted is not None
        backups, size_bytes, reclaimable, expired, oldest, database_size = counted
        last = scheduled.fetchone() if scheduled else None
        return row.with_totals(
            backups,
            size_bytes,
            reclaimable,
            expired,
            oldest,
            database_size,
            findings=findings(),
            last_scheduled_ok=last[0] if last else None,
        )
    except psycopg.Error as exc:
        if WATCH.why(conn):
            return _unreachable(target, f"stalled: no answer within {statement_timeout} (and {GRACE:.0f} s)")
        return _unreachable(target, phrase(friendly_message(exc)))
    except DatabaseError as exc:
        return _unreachable(target, phrase(str(exc)))
    finally:
        conn.close()


_PHRASES = (
    ("timeout expired", "timeout (no answer within connect_timeout)"),
    ("Connection refused", "connection refused"),
    ("could not translate host name", "unknown host"),
    ("Name or service not known", "unknown host"),
    ("password authentication failed", "password authentication failed"),
    ("no password supplied", "no password (add it to ~/.pgpass)"),
    ("does not exist", None),
    ("definition of service", "no such service in the service file"),
)


def phrase(message: str) -> str:
    """An error in one phrase: what libpq or the server said, without its preamble."""
    text = " ".join(message.split()) or "unknown error"
    for needle, phrase in _PHRASES:
        if needle in text:
            if phrase is None:  # the server's own words are the phrase: 'database "x" does not exist'
                return text.split("FATAL:")[-1].split("failed:")[-1].strip()[:160]
            return phrase
    for noise in ("cannot connect: ", "connection failed: "):
        text = text.replace(noise, "")
    return text[:160]


def summaries(
    chosen: list[FleetTarget], workers: int = 8, connect_timeout: int = 5, statement_timeout: str = SUMMARY_TIMEOUT
) -> Iterator[FleetRow]:
    """Every target's row, as each arrives (a slow or dead target never delays the others)."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen) or 1)), thread_name_prefix="fleet") as pool:
        futures = [pool.submit(summary, t, connect_timeout, statement_timeout) for t in chosen]
        for future in as_completed(futures):
            yield future.result()


def run_everywhere(chosen: list[FleetTarget], fn: Callable[[FleetTarget], object], workers: int = 8) -> list[object]:
    """fn(target) on every target in parallel; results in the targets' order."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen) or 1)), thread_name_prefix="fleet") as pool:
        return list(pool.map(fn, chosen))


def _unreachable(target: FleetTarget, error: str) -> FleetRow:
    """A target that did not answer, with the host and database its DSN or service names (the
    metrics' labels say which database is down, not an empty string)."""
    host, port, dbname = declared_place(target.dsn)
    return FleetRow(target, host=host, port=port, dbname=dbname, error=error)
